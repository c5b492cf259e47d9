"""The words around names that :mod:`relay.namefind` reads, per language (folded: lowercase, Latin
diacritics off), and the closed sets names are built from where the names dataset has none.

Cue words are the language's own; they are short on purpose: each one makes the word after it a
name candidate, so a word that also starts ordinary sentences does not belong here.
"""

from __future__ import annotations

import re

from relay.text import _words

# Words after which a word is a name (roles, titles, person markers). Latin and Cyrillic ones matter
# for a lowercase or sentence-initial name; in Devanagari, Bengali, Tamil and Arabic script they are
# what finds a name missing from the list.
BEFORE_NAME = _words(
    # en es fr cs pl
    "coworker co-worker colleague workmate friend supervisor manager boss foreman leader named called "
    "companera companero supervisora gerente jefe jefa encargado encargada llamado llamada "
    "collegue chef directeur directrice contremaitre appele appelee "
    "kolegyne kolega mistr mistrova vedouci jmenem kolezanka brygadzista kierownik kierowniczka imieniem "
    # id ms fil sw vi uk
    "teman mandor manajer rekan penyelia pengurus rakan si sina ni kay kina katrabaho superbisor "
    "mwenzangu msimamizi meneja bwana bi dada kaka ndugu "
    "dong nghiep truong "
    "колега майстер начальник начальниця пан пані "
    # hi ne bn ta ur
    "सहकर्मी साथी सुपरवाइजर मैनेजर श्री श्रीमती सुश्री सुपरभाइजर म्यानेजर "
    "সহকর্মী সুপারভাইজার ম্যানেজার জনাব "
    "ஊழியர் மேற்பார்வையாளர் மேலாளர் திரு திருமதி "
    "ساتھی سپروائزر مینیجر جناب محترمہ"
)
# Words that follow a name opening a message ("Maria here", "राम बोल रहा हूँ"), and honorifics
# written after a name (राम जी, ரவி அவர்களை, اسلم صاحب).
AFTER_NAME = _words(
    "here speaking writing aqui escribiendo ici hapa po ito "
    "बोल बोल्दैछु जी भाई दीदी दाइ दिदी বলছি ভাই আপা পেসுகிறேன் பேசுகிறேன் அவர்கள் அவர்களை அவர்களுக்கு "
    "بول صاحب بھائی باجی"
)
# Capitalised words that are not names: months, days, greetings, titles, apps, languages.
CAP_NOT_NAMES = _words(
    "i january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday "
    "januari februari maret mei juni juli agustus oktober desember mac ogos disember enero marso abril mayo "
    "hunyo hulyo agosto setyembre oktubre nobyembre disyembre januari februari machi aprili juni julai "
    "senin selasa rabu kamis jumat sabtu minggu isnin khamis ahad lunes martes miyerkules huwebes biyernes "
    "sabado linggo jumatatu jumanne jumatano alhamisi ijumaa jumamosi jumapili "
    "hello hi dear sorry thanks thank please yes no ok okay hola buenos buenas bonjour salut ahoj dzien "
    "halo selamat hai kumusta habari jambo xin chao привіт добрий "
    "mr mrs ms dr sr sra srta mme mlle pak bu ibu bapak mbak mas encik cik puan tuan don dona senor senora "
    "monsieur madame pan pani pane anh chi em co chu bac ong ba di cau "
    "wechat facebook zalo whatsapp telegram viber messenger tiktok instagram google youtube line gmail "
    "english spanish chinese vietnamese french muslim christian buddhist islam god allah covid "
    # words that introduce a name (relay/names.py finds the name after them)
    "soy jsem jestem saya aku ako je me my mi mon ma toi em la ang"
)
# Capitalised Vietnamese words (with their diacritics, casefolded) that are not names. A word with
# diacritics is looked up here and not in CAP_NOT_NAMES: "Tuấn" is a name, Malay "Tuan" a title.
VN_NOT_NAMES = _words(
    "tôi mình em anh chị cô chú bác ông bà dì cậu là và của chúng họ nó những các một hôm ngày tháng năm "
    "sáng chiều tối đêm công quản tổ lương tiền xưởng bảo lần không xin chào cảm ơn dạ vâng thưa gửi"
)
# "and": a capitalised word before "and" and another capitalised word is a name ("Wszebora i Michał").
AND = _words("and y e et a i dan at na va і и та")
# Words after which a capitalised word is more likely a place than a person ("from Honduras").
LOCATIVES = _words(
    "from in at to into near de en a au aux du des dans di ke dari sa taga ya kwa w we v ve z ze u у в o tai"
)
PARTICLES = _words("de del dela delos la las los van von der den bin binti bte da das do dos di du le ng al el")

# Postpositions and conjunctions: never a name, even right after a role word ("मैनेजर ने").
NATIVE_STOP = _words(
    "ने को से का की के और है में पर नहीं भी तो ले लाई र मा बाट सँग छ हो "
    "আর ও কে এর থেকে না এবং "
    "மற்றும் அவர்கள் அவர்களை "
    "نے کو سے کا کی کے اور ہے میں پر نہیں بھی "
    # "name" and the pronouns before one ("मेरा नाम राम है")
    "नाम मेरा मेरी मेरो हमारा हमारी उसका उसकी नाउँ নাম আমার আমাদের তার பெயர் என் எங்கள் نام میرا میری ہمارا"
)
# Case endings written onto a name (Nepali, Hindi, Bengali), longest first.
NATIVE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "devanagari": ("लाई", "बाट", "सँग", "ले", "को", "का", "की", "के", "मा"),
    "bengali": ("দের", "কে", "এর", "ের", "রা", "র"),
}

# Vietnamese: names are ordinary syllables, capitalised. Given names and middle names (lowercase,
# with diacritics); a sentence-initial one is a name when a subject's next word follows it.
VN_NAME_SYLLABLES = _words(
    "an anh bảo bích bình cẩm chi chinh chung cúc cường dân diễm diệp dung dũng duy duyên dương đạt điệp đông "
    "đức giang giao hà hải hạnh hằng hân hậu hiền hiển hiếu hiệp hoa hòa hoà hoài hoan hoàng hồng huệ hùng "
    "hưng hương hường huy huyền khang khanh khánh khoa khôi khuê kiên kiệt kim kiều lan lâm lệ liên liễu linh "
    "loan long lộc lợi luân lực ly lý mai mạnh minh my mỹ nam nga ngân nghĩa ngọc nguyệt nhàn nhân nhật nhi "
    "nhung như oanh phát phong phú phúc phụng phương phượng quân quang quế quốc quý quyên quyết quỳnh sang sáng "
    "sơn sương tài tâm tân thạch thái thắm thắng thanh thành thảo thi thịnh thơ thu thuận thục thúy thủy thư "
    "thương tiên tiến tín toàn trang trâm trí trinh trọng trung trường tú tuấn tùng tuyết tường uyên vân văn "
    "thị việt vinh vy xuân yến "
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý trịnh đinh lâm mai cao tạ lương "
    "trương hà thái tăng la kiều đào đoàn châu chu quách tống ninh khổng âu thân"
)
VN_FOLLOWERS = _words(
    "bi da khong chua va la duoc noi thay cung day oi vua moi dang se lam o voi ke bao nghi viet nhan gui "
    "hoi xin tu cua"
)

# Chinese: cues before a name, characters that follow one, and common words that start with a
# surname character ("高温的时候" is no one's name).
HAN_CUES = (
    "工友|同事|主管|组长|組長|经理|經理|拉长|拉長|线长|線長|班长|班長|课长|課長|厂长|廠長|老板|老闆|师傅|師傅|"
    "朋友|室友|老乡|老鄉|姐妹|大姐|大哥|名叫|叫做|就是|还有|還有|告诉|告訴|看见|看見|和|跟|与|與|让|讓|逼|把|给|給|问|問"
)
HAN_AFTER = frozenset("被和跟也从從说說都在是没沒不把让讓给給叫今已还還又很对對向替帮幫等的，。、！？；：")
# Words that follow a person's name in a complaint: where a name with no listed given name ends.
HAN_AFTER_WORDS = _words(
    "开除 開除 辞退 辭退 星期 礼拜 禮拜 上班 下班 加班 干活 幹活 工作 签字 簽字 离职 離職 回家 受伤 受傷 "
    "去了 来了 來了 走了 看见 看見 告诉 告訴 打了 骂了 罵了 没有 沒有 一起 已经 已經 每天 还是 還是 自己 "
    "晚上 早上 今天 昨天 明天 上午 下午 周日 週日 周末 週末"
)
# Characters no name holds: a stretch with one is no name ("有人被", "我们和").
HAN_NOT_IN_NAMES = frozenset("的了们們个個是在我他她你有没沒这這那也都就人事部厂廠里裡上下中大小手机機")
# What follows a surname as a title, not a given name (王总, 刘主管, 陈姐).
HAN_TITLE_CHARS = frozenset("总總姐哥叔姨婶嬸伯主经經组組拉线線课課厂廠老师師先太小工司班队隊")
HAN_NOT_NAMES = _words(
    "周末 安全 任何 严重 嚴重 高温 高溫 高兴 高興 方便 马上 馬上 黄色 黃色 石头 石頭 常常 于是 於是 关于 關於 白天 "
    "万一 萬一 金额 金額 何时 何時 余下 成本 程序 华人 華人 夏天 林场 江湖 高中 初中 江西 江苏 江蘇 安徽 吉林 "
    "宁夏 甘肃 云南 雲南 广西 廣西 金属 金屬 钟点 鐘點 曾经 曾經 苏州 蘇州 温州 溫州 常州 江门 江門 龙华 龍華 "
    "龙岗 龍崗 宁波 寧波 武汉 武漢 郑州 鄭州 许昌 許昌 余姚 黎明 高层 高層 孙子 孫子 安排 安装 安裝 方面 方法 "
    "方式 马路 馬路 路上 文件 文化 明天 明年 明白 常见 常見 向来 向來 于是 连续 連續 连着 連著 连班 連班 全部 全都 "
    "全厂 全廠 钱包 錢包 包括 包装 包裝 成品 成功 成为 成為 宋体 汤面 湯面 甘心 乔迁 喬遷 史上 毛巾 余额 餘額 "
    "秦岭 秦嶺 易燃 易碎 花钱 花錢 卫生 衛生 齐全 齊全 严格 嚴格 严禁 嚴禁 洪水 施工 牛奶 管理 管理员 時間 时间 "
    "时候 時候 车间 車間 向上 向下 于今 景区 景區 班组 班組 柴油 房间 房間 房子 房租 简单 簡單 单位 單位 工资 工資 "
    "平时 平時 和平 江边 高速 高峰 高血压 高血壓 温度 溫度 康复 康復 申请 申請 申诉 申訴 付款 付钱 付錢 付出 "
    "于此 解决 解決 解释 解釋 雷雨 龙头 龍頭 龙门 龍門 邓紫 黎明 夏季 秋季 冬季 春季 秋天 冬天 春天 左右 左边 "
    "左邊 右边 右邊 上班 上午 下午 晚上 早上 中午 毕业 畢業 贾 戴上 严厉 嚴厲 闻到 聞到 顾客 顧客 范围 範圍 "
    "尤其 于今年 万元 萬元 欧元 歐元 沙发 沙發 田地 谷歌 谷物 邱 苗头 甄别 祝福 祝你 艾滋 焦虑 焦慮 农民 農民 "
    "任务 任務 任意 任职 任職 尚未 龚 章程 庞大 龐大 温暖 溫暖 陆续 陸續 金钱 金錢 路费 路費 习惯 習慣 水电 水電 "
    "谢谢 謝謝 谢了 謝了 孔 柏油 池子 宫 杜绝 杜絕 施加 凌晨 乐意 樂意 时常 時常 时间 邢 岳 谭 聂 雷 贺 钟 戚 廖 霍"
)

# Khmer and Burmese: titles and roles written right before a name ("បងសុខា"; Thai ones are in
# relay/namefind_thai.py).
SE_ASIAN_CUES = re.compile(
    "(?:លោកស្រី|លោក|អ្នកស្រី|កញ្ញា|បង(?![\u17b6-\u17d3])|ប្អូន|ឈ្មោះ|ពូ(?![\u17b6-\u17d3])|មីង|អ៊ំ|ဦး|ဒေါ်|မောင်|ဆရာ|ကို(?=[\u1000-\u1021]))"
)
# Where a name after a cue ends.
SE_ASIAN_STOPS = re.compile(
    "ถูก|ไม่|กับ|และ|เห็น|ได้|ทำ|บอก|ล็อก|เอง|ที่|ซึ่ง|จะ|ก็|ว่า|ให้|ของ|ตี|ด่า|"
    "ត្រូវ|មិន|និង|ឃើញ|បាន|ចាក់|នេះ|ជា|ដែល|របស់|"
    "က(?![\u102b-\u103e])|ကို|နဲ့|ပါ|ရဲ့|လည်း"
)
# Burmese given names are strings of a few hundred name syllables: the common ones.
MY_SYLLABLES = (
    "အောင်|ကျော်|ဇော်|မြင့်|ဝင်း|သန်း|ထွန်း|လှ|မြ|ခင်|စန်း|နီ|လာ|သီ|တာ|မောင်|မင်း|စု|ကြည်|ဖြူ|နွယ်|ဆု|မေ|ရီ|"
    "ဟန်|ထက်|နိုင်|ဦး|စိုး|မိုး|ဇင်|သူ|ရွှေ|ငြိမ်း|ချို|ဝေ|လွင်|ထား|မာ|ပြည့်|ဖြိုး|သက်|ပိုင်|ပွင့်|သော်|ဒါ|စန္ဒာ|"
    "ခိုင်|သဲ|နှင်း|အေး|အိ|ယု|ကေ|ဇာ|နန္ဒာ|ချစ်|တင်|ကြိုင်|လင်း|သိန်း|ဘ|ဖိုး|သာ|ညို|ရဲ|ကို|နန်း|ခမ်း|နွမ်း|"
    "ဟိန်း|ဂျူး|ဝါ|လဲ့|ယဉ်|ကလျာ|ထိုက်|မျိုး|ဆွေ|ညွန့်|ပန်း|နု|ဇွဲ|ဘို|တိုး|လတ်|အုန်း|မြတ်|ဝတ်|ရည်"
)
MY_CUES = "ဦး|ဒေါ်|မောင်|ဆရာ|ကို"
MY_PARTICLES = "က|ကို|နဲ့|ပါ|ရဲ့|လည်း|ဟာ|တို့"
