"""Synthetic sample reports for ``intake demo``. Invented: no real factory, person or number."""

from __future__ import annotations

from typing import Any

# Sent through the web form (form=True) or the JSON API; English and Chinese, as workers write.
SAMPLE_REPORTS: list[dict[str, Any]] = [
    {"form": True, "locale": "zh_Hans", "factory": "东莞宏达电子厂", "location": "东莞长安镇",
     "categories": ["child_labour", "working_hours"], "consent": "1",
     "description": "我们是职校派来的实习生，每天站十二个小时，没有合同。老师说如果离开就不能毕业。"},
    {"form": True, "locale": "en", "factory": "Sunrise Precision Components", "location": "Penang",
     "categories": ["forced_labour", "recruitment_fees"], "consent": "1",
     "description": "The agency keeps our passports. They take a fee from every pay slip and say we owe them for the visa."},
    {"form": False, "locale": "zh_Hans", "factory": "深圳恒通科技", "location": "深圳龙华", "photo": True,
     "categories": ["health_safety"], "consent": 1,
     "description": "昨天夜班冲压机伤了一个工人，他失去了两根手指。机器的安全罩坏了两个月没人修。"},
    {"form": False, "locale": "en", "factory": "Northgate Cable Assembly", "location": "Ciudad Juárez",
     "categories": ["wages", "working_hours"], "consent": 0,
     "description": "Overtime is mandatory on Saturdays and is paid at the normal rate. Nobody got the holiday bonus."},
    {"form": True, "locale": "zh_Hans", "factory": "苏州佳美光电", "location": "苏州工业园区",
     "categories": ["wages"], "consent": "2",
     "description": "工厂已经三个月没有交社保了，工资也晚发了二十天。"},
    {"form": False, "locale": "en", "factory": "Kivu Mineral Traders depot", "location": "near Goma",
     "categories": ["child_labour", "health_safety"], "consent": 1,
     "description": "Children carry sacks at the depot after school. There are no masks and the dust is heavy."},
    {"form": True, "locale": "en", "factory": "Sunrise Precision Components", "location": "Penang",
     "categories": ["dormitory"], "consent": "1",
     "description": "Twenty of us sleep in one room in the hostel. One toilet, and the water is off most evenings."},
    {"form": False, "locale": "zh_Hans", "factory": "东莞宏达电子厂", "location": "东莞",
     "categories": ["retaliation", "freedom_of_association"], "consent": 1,
     "description": "我们几个人向厂里反映加班费的问题，第二天就被调到最累的岗位，组长说再闹就开除。"},
    {"form": False, "locale": "en", "factory": "Brno Electronic Works", "location": "Brno",
     "categories": ["discrimination", "employment"], "consent": 0,
     "description": "Agency workers from Ukraine get less per hour than direct staff on the same line and can be sent away any day."},
    {"form": True, "locale": "zh_Hans", "factory": "昆山立达精密", "location": "昆山",
     "categories": ["harassment"], "consent": "0",
     "description": "线长经常骂人，还对女工动手动脚。我们不敢说。"},
    {"form": False, "locale": "en", "factory": "Northgate Cable Assembly", "location": "Ciudad Juárez",
     "categories": ["employment"], "consent": 1,
     "description": "Forty people were dismissed last week with no severance after the order from the brand ended."},
    {"form": True, "locale": "en", "factory": "Mekong Solar Modules", "location": "Bac Ninh",
     "categories": ["working_hours", "health_safety"], "consent": "1",
     "description": "Line stops are not allowed for water breaks in the hot season. Two workers fainted this month."},
]  # fmt: skip

# Two SMS conversations, sent as signed Twilio webhooks (the Chinese one uses the Chinese keywords).
SAMPLE_SMS: list[dict[str, Any]] = [
    {"from": "+8613800000001", "locale": "zh_Hans",
     "messages": ["你好", "东莞宏达电子厂", "宿舍二十个人一间，晚上经常停水停电。", "{done}", "11", "1", "{no}"],
     "factory": "东莞宏达电子厂", "description": "宿舍二十个人一间，晚上经常停水停电。"},
    {"from": "+639170000002", "locale": "en",
     "messages": ["hello", "Sunrise Precision Components",
                  "The agency took our passports when we arrived and says we must pay 3000 to get them back.",
                  "{done}", "4 5", "1", "{no}"],
     "factory": "Sunrise Precision Components",
     "description": "The agency took our passports when we arrived and says we must pay 3000 to get them back."},
]  # fmt: skip


def demo_photo() -> bytes:
    """A synthetic phone photo for the demo's accident report: a drawn press with its guard hanging
    off, and the EXIF a phone adds (maker, serial number, GPS position) that the intake removes."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (205, 205, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((170, 60, 470, 420), fill=(90, 100, 110))  # the press
    draw.rectangle((200, 240, 440, 300), fill=(40, 40, 40))  # its die
    draw.polygon([(440, 200), (560, 330), (540, 350), (425, 225)], fill=(230, 180, 0))  # the guard, hanging
    draw.text((20, 440), "Synthetic demo photo: safety guard broken", fill=(0, 0, 0), font_size=22)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0xA431] = "DemoPhone", "Model D", "SN-DEMO-0001"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (22.0, 39.0, 0.0), "E", (114.0, 1.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()
