"""Urgency in every shipped language (issue 12, item 9): the same report is urgent whatever its language.

Each language has synthetic reports of the kinds a caseworker must see first (a locked fire exit, a
hand in a press, passports kept by the agency, children at work, a beating or a sexual assault, a
threat after a complaint, a death) and ordinary ones that must stay normal (late wages, overtime,
canteen food), several of them written around a word that a careless rule would take for danger
("they will fire anyone", "lampu mati", "热死了", "அடிப்படை சம்பளம்"). Every rule of every language
runs on every text, so each ordinary report is also a false-positive test for the other 20
languages' rules. Vietnamese, Czech, Polish, Spanish and French are also tested as workers often
type them on a phone: without diacritics.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

import i18n
from intake import triage_rules, triage_rules_asia
from intake.domain import Channel, Report
from intake.triage import initial_severity
from intake.triage_regex import compile_family
from intake.triage_rules import KINDS, LATIN
from intake.triage_rules_asia import ASIA
from tests.conftest import Node, drain_node

# kind of report -> one synthetic report; every language has every kind.
URGENT: dict[str, dict[str, str]] = {
    "en": {
        "exit": "The fire exit on the second floor is locked with a chain during the night shift.",
        "injury": "Yesterday the press cut off two fingers of a worker on line 3, there is no guard on the machine.",
        "passports": "The agency keeps our passports and says we get them back only when the contract ends.",
        "child": "There are 14-year-old girls working on the packing line, the agent gave them fake IDs.",
        "beating": "The supervisor beat a worker in front of everyone because he was slow.",
        "sexual": "The manager groped me in the office and said nobody would believe me.",
        "threat": "After we reported the overtime to the auditor, the manager threatened to have us beaten.",
        "death": "A worker died after falling from the scaffolding.",
    },
    "es": {
        "exit": "La salida de emergencia del segundo piso está cerrada con candado durante el turno de noche.",
        "injury": "Ayer una prensa le cortó dos dedos a un compañero de la línea 3; la máquina no tiene guarda.",
        "passports": "La agencia se quedó con nuestros pasaportes y dice que nos los devuelve al terminar el contrato.",
        "child": "En el área de empaque trabajan niñas de 14 años con credenciales falsas.",
        "beating": "El supervisor golpeó a un compañero delante de todos.",
        "sexual": "El gerente me manoseó en la oficina y dijo que nadie me creería.",
        "threat": "Después de que denunciamos las horas extra, el jefe nos amenazó con despedirnos a todos.",
        "death": "Un trabajador murió al caer del andamio.",
    },
    "fr": {
        "exit": "La sortie de secours de l'atelier est fermée à clé pendant l'équipe de nuit.",
        "injury": "Hier la presse a écrasé la main d'un ouvrier, il a perdu deux doigts.",
        "passports": "L'agence garde nos passeports et ne veut pas les rendre avant la fin du contrat.",
        "child": "Des enfants de 13 ans travaillent dans l'atelier de couture.",
        "beating": "Le chef d'équipe a frappé un collègue devant tout le monde.",
        "sexual": "Le superviseur me fait des attouchements dans le bureau quand je suis seule.",
        "threat": "Après notre plainte à l'inspection, le directeur nous a menacés de licenciement.",
        "death": "Un mineur est mort dans l'effondrement de la galerie.",
    },
    "pl": {
        "exit": "Wyjście ewakuacyjne na hali jest zamknięte na kłódkę podczas nocnej zmiany.",
        "injury": "Wczoraj prasa zmiażdżyła koledze dłoń, stracił dwa palce.",
        "passports": "Agencja zabrała nam paszporty i mówi, że oddadzą je dopiero po końcu umowy.",
        "child": "Przy pakowaniu pracują dzieci, niektóre mają 14 lat.",
        "beating": "Brygadzista pobił kolegę na oczach wszystkich.",
        "sexual": "Kierownik molestuje młode pracownice w magazynie.",
        "threat": "Po naszej skardze do inspekcji szef groził, że nas wszystkich zwolni.",
        "death": "Pracownik zginął, spadając z rusztowania.",
    },
    "cs": {
        "exit": "Nouzový východ v hale je v noci zamčený na řetěz.",
        "injury": "Včera lis rozdrtil kolegovi ruku, přišel o dva prsty.",
        "passports": "Agentura nám vzala pasy a vrátí je prý až po skončení smlouvy.",
        "child": "Na balicí lince pracují děti, některým je teprve 14 let.",
        "beating": "Mistr zbil kolegu před všemi.",
        "sexual": "Vedoucí osahává mladé brigádnice ve skladu.",
        "threat": "Po stížnosti na inspekci nám vedoucí vyhrožoval, že nás všechny vyhodí.",
        "death": "Dělník zemřel po pádu z lešení.",
    },
    "uk": {
        "exit": "Аварійний вихід у цеху вночі зачинений на замок.",
        "injury": "Вчора прес розчавив колезі руку, йому відрізало два пальці.",
        "passports": "Агенція забрала наші паспорти і каже, що поверне їх тільки після закінчення контракту.",
        "child": "На пакуванні працюють діти, деяким лише 14 років.",
        "beating": "Бригадир побив колегу на очах у всіх.",
        "sexual": "Начальник зміни чіпляється до молодих працівниць і лапає їх на складі.",
        "threat": "Після нашої скарги до інспекції керівник погрожував, що звільнить усіх.",
        "death": "Робітник загинув, упавши з риштування.",
    },
    "id": {
        "exit": "Pintu darurat di lantai dua selalu dikunci dengan gembok saat shift malam.",
        "injury": "Kemarin tangan teman saya terjepit mesin press dan dua jarinya putus.",
        "passports": "Agen menahan paspor kami dan bilang baru dikembalikan kalau kontrak selesai.",
        "child": "Di bagian pengemasan ada anak-anak umur 14 tahun yang bekerja.",
        "beating": "Mandor memukul teman saya di depan semua orang.",
        "sexual": "Supervisor sering meraba-raba pekerja perempuan di gudang.",
        "threat": "Setelah kami melapor ke dinas, manajer mengancam akan memecat kami semua.",
        "death": "Seorang pekerja meninggal setelah jatuh dari perancah.",
    },
    "ms": {
        "exit": "Pintu kecemasan di kilang dikunci setiap malam dan kami tidak boleh keluar.",
        "injury": "Semalam tangan kawan saya tersepit mesin dan dua jarinya putus.",
        "passports": "Ejen menyimpan pasport kami dan tidak mahu pulangkan.",
        "child": "Ada budak bawah umur bekerja di bahagian pembungkusan.",
        "beating": "Penyelia memukul pekerja Myanmar kerana lambat.",
        "sexual": "Penyelia itu mencabul pekerja wanita di stor.",
        "threat": "Selepas kami membuat aduan, majikan mengugut untuk menghantar kami pulang.",
        "death": "Seorang pekerja mati tertimpa besi di tapak binaan.",
    },
    "fil": {
        "exit": "Naka-padlock ang fire exit sa ikalawang palapag tuwing night shift.",
        "injury": "Kahapon naipit ang kamay ng kasama ko sa makina at naputol ang dalawang daliri niya.",
        "passports": "Kinuha ng ahensya ang mga pasaporte namin at ayaw ibalik hangga't hindi tapos ang kontrata.",
        "child": "May mga batang 14 taong gulang na nagtatrabaho sa packing.",
        "beating": "Sinuntok ng supervisor ang kasama namin sa harap ng lahat.",
        "sexual": "Hinihipuan ng manager ang mga babaeng trabahador sa bodega.",
        "threat": "Matapos kaming magreklamo sa DOLE, binantaan kami ng manager na tatanggalin kaming lahat.",
        "death": "May manggagawang namatay matapos mahulog mula sa scaffolding.",
    },
    "sw": {
        "exit": "Mlango wa dharura kiwandani umefungwa kwa kufuli wakati wa zamu ya usiku.",
        "injury": "Jana mashine ilikata vidole viwili vya mfanyakazi mwenzetu.",
        "passports": "Wakala amechukua pasipoti zetu na anakataa kuzirudisha mpaka mkataba uishe.",
        "child": "Watoto wa miaka 13 wanafanya kazi mgodini.",
        "beating": "Msimamizi alimpiga mfanyakazi mbele ya wote.",
        "sexual": "Meneja anawanyanyasa kingono wafanyakazi wanawake.",
        "threat": "Baada ya kulalamika kwa mkaguzi, meneja alitutishia kutufukuza kazi sote.",
        "death": "Mfanyakazi mmoja alikufa baada ya shimo kuporomoka.",
    },
    "vi": {
        "exit": "Cửa thoát hiểm ở tầng hai bị khóa bằng xích vào ca đêm.",
        "injury": "Hôm qua máy dập làm đứt hai ngón tay của một công nhân.",
        "passports": "Công ty môi giới giữ hộ chiếu của chúng tôi và nói hết hợp đồng mới trả.",
        "child": "Ở khâu đóng gói có các em 14 tuổi làm việc.",
        "beating": "Tổ trưởng đánh một công nhân trước mặt mọi người.",
        "sexual": "Quản lý thường sàm sỡ các nữ công nhân trong kho.",
        "threat": "Sau khi chúng tôi khiếu nại lên thanh tra, giám đốc đe dọa đuổi việc tất cả.",
        "death": "Một công nhân đã chết sau khi ngã từ giàn giáo.",
    },
    "hi": {
        "exit": "दूसरी मंज़िल का आपातकालीन दरवाज़ा रात की शिफ्ट में ताला लगाकर बंद रखा जाता है।",
        "injury": "कल प्रेस मशीन में एक मज़दूर की दो उंगलियाँ कट गईं।",
        "passports": "एजेंसी ने हमारे पासपोर्ट रख लिए हैं और कहती है कि कॉन्ट्रैक्ट खत्म होने पर ही लौटाएगी।",
        "child": "पैकिंग में 14 साल के बच्चे काम करते हैं।",
        "beating": "सुपरवाइज़र ने एक मज़दूर को सबके सामने पीटा।",
        "sexual": "मैनेजर गोदाम में औरतों के साथ छेड़छाड़ करता है।",
        "threat": "शिकायत करने के बाद मैनेजर ने हमें नौकरी से निकालने की धमकी दी।",
        "death": "मचान से गिरकर एक मज़दूर की मौत हो गई।",
    },
    "ne": {
        "exit": "रातको सिफ्टमा आपतकालीन ढोका ताल्चा लगाएर बन्द गरिन्छ।",
        "injury": "हिजो प्रेस मेसिनले एक जना कामदारको दुईवटा औंला काटियो।",
        "passports": "एजेन्टले हाम्रो राहदानी राखिदिएको छ र सम्झौता सकिएपछि मात्र फिर्ता दिन्छु भन्छ।",
        "child": "प्याकिङमा १४ वर्षका केटाकेटीहरू काम गर्छन्।",
        "beating": "सुपरभाइजरले एक जना कामदारलाई सबैको अगाडि कुट्यो।",
        "sexual": "म्यानेजरले गोदाममा महिला कामदारलाई यौन दुर्व्यवहार गर्छ।",
        "threat": "उजुरी गरेपछि म्यानेजरले हामीलाई कामबाट निकाल्ने धम्की दियो।",
        "death": "मचानबाट खसेर एक जना कामदारको मृत्यु भयो।",
    },
    "bn": {
        "exit": "রাতের শিফটে দোতলার জরুরি বহির্গমন দরজায় তালা দিয়ে রাখা হয়।",
        "injury": "গতকাল প্রেস মেশিনে একজন শ্রমিকের দুটি আঙুল কেটে গেছে।",
        "passports": "এজেন্সি আমাদের পাসপোর্ট আটকে রেখেছে, চুক্তি শেষ না হলে ফেরত দেবে না।",
        "child": "প্যাকিং সেকশনে ১৪ বছরের শিশুরা কাজ করে।",
        "beating": "সুপারভাইজার সবার সামনে একজন শ্রমিককে মারধর করেছে।",
        "sexual": "ম্যানেজার গুদামে নারী শ্রমিকদের যৌন হয়রানি করে।",
        "threat": "অভিযোগ করার পর ম্যানেজার আমাদের চাকরি থেকে ছাঁটাইয়ের হুমকি দিয়েছে।",
        "death": "ভারা থেকে পড়ে একজন শ্রমিক মারা গেছেন।",
    },
    "ur": {
        "exit": "رات کی شفٹ میں دوسری منزل کا ہنگامی دروازہ تالا لگا کر بند رکھا جاتا ہے۔",
        "injury": "کل پریس مشین میں ایک مزدور کی دو انگلیاں کٹ گئیں۔",
        "passports": "ایجنسی نے ہمارے پاسپورٹ رکھ لیے ہیں اور کہتی ہے کہ معاہدہ ختم ہونے پر واپس کرے گی۔",
        "child": "پیکنگ میں 14 سال کے بچے کام کرتے ہیں۔",
        "beating": "سپروائزر نے سب کے سامنے ایک مزدور کو مارا پیٹا۔",
        "sexual": "مینیجر گودام میں خواتین مزدوروں کو جنسی طور پر ہراساں کرتا ہے۔",
        "threat": "شکایت کرنے کے بعد مینیجر نے ہمیں نوکری سے نکالنے کی دھمکی دی۔",
        "death": "سہاروں سے گر کر ایک مزدور کی موت ہو گئی۔",
    },
    "ta": {
        "exit": "இரவு ஷிஃப்டில் இரண்டாவது மாடியின் அவசர வழி கதவு பூட்டப்பட்டிருக்கிறது.",
        "injury": "நேற்று பிரஸ் இயந்திரத்தில் ஒரு தொழிலாளியின் இரண்டு விரல்கள் துண்டிக்கப்பட்டன.",
        "passports": "ஏஜென்சி எங்கள் பாஸ்போர்ட்டுகளைப் பிடித்து வைத்துள்ளது, ஒப்பந்தம் முடிந்த பிறகுதான் தருவோம் என்கிறார்கள்.",
        "child": "பேக்கிங் பிரிவில் 14 வயது சிறுமிகள் வேலை செய்கிறார்கள்.",
        "beating": "மேற்பார்வையாளர் எல்லோர் முன்னிலையிலும் ஒரு தொழிலாளியை அடித்தார்.",
        "sexual": "மேலாளர் கிடங்கில் பெண் தொழிலாளர்களுக்கு பாலியல் தொல்லை கொடுக்கிறார்.",
        "threat": "புகார் கொடுத்த பிறகு மேலாளர் எங்களை வேலையை விட்டு நீக்குவதாக மிரட்டினார்.",
        "death": "சாரத்திலிருந்து விழுந்து ஒரு தொழிலாளி இறந்தார்.",
    },
    "th": {
        "exit": "ประตูหนีไฟชั้นสองถูกล็อกด้วยโซ่ตอนกะดึก",
        "injury": "เมื่อวานเครื่องปั๊มทับมือเพื่อนคนงาน นิ้วขาดสองนิ้ว",
        "passports": "เอเจนซี่ยึดหนังสือเดินทางของพวกเราไว้ บอกว่าจะคืนเมื่อหมดสัญญา",
        "child": "ในแผนกแพ็กของมีเด็กอายุ 14 ปีทำงานอยู่",
        "beating": "หัวหน้างานตบหน้าคนงานต่อหน้าทุกคน",
        "sexual": "ผู้จัดการลวนลามคนงานหญิงในโกดัง",
        "threat": "หลังจากเราร้องเรียนไปที่แรงงานจังหวัด ผู้จัดการขู่ว่าจะไล่ออกทั้งหมด",
        "death": "คนงานคนหนึ่งเสียชีวิตหลังตกจากนั่งร้าน",
    },
    "my": {
        "exit": "ညဆိုင်းမှာ ဒုတိယထပ်က အရေးပေါ်ထွက်ပေါက်ကို သော့ခတ်ထားတယ်။",
        "injury": "မနေ့က စက်ထဲမှာ အလုပ်သမားတစ်ယောက်ရဲ့ လက်ချောင်းနှစ်ချောင်း ပြတ်သွားတယ်။",
        "passports": "အေဂျင်စီက ကျွန်တော်တို့ရဲ့ ပတ်စပို့တွေကို သိမ်းထားပြီး စာချုပ်ပြီးမှ ပြန်ပေးမယ်လို့ ပြောတယ်။",
        "child": "ထုပ်ပိုးတဲ့ဌာနမှာ အသက် ၁၄ နှစ်အရွယ် ကလေးတွေ အလုပ်လုပ်နေတယ်။",
        "beating": "ကြီးကြပ်ရေးမှူးက အလုပ်သမားတစ်ယောက်ကို လူအများရှေ့မှာ ရိုက်နှက်တယ်။",
        "sexual": "မန်နေဂျာက ဂိုဒေါင်ထဲမှာ အမျိုးသမီးအလုပ်သမားတွေကို လိင်ပိုင်းဆိုင်ရာ နှောင့်ယှက်တယ်။",
        "threat": "တိုင်ကြားပြီးနောက် မန်နေဂျာက ကျွန်တော်တို့ကို အလုပ်ထုတ်မယ်လို့ ခြိမ်းခြောက်တယ်။",
        "death": "ငြမ်းပေါ်က ပြုတ်ကျပြီး အလုပ်သမားတစ်ယောက် သေဆုံးသွားတယ်။",
    },
    "km": {
        "exit": "នៅវេនយប់ ច្រកចេញបន្ទាន់នៅជាន់ទីពីរត្រូវបានចាក់សោ។",
        "injury": "ម្សិលមិញ ម៉ាស៊ីនបានកាត់ម្រាមដៃកម្មករម្នាក់ដាច់ពីរ។",
        "passports": "ភ្នាក់ងាររឹបយកលិខិតឆ្លងដែនរបស់យើង ហើយថានឹងប្រគល់វិញពេលផុតកិច្ចសន្យា។",
        "child": "នៅផ្នែកវេចខ្ចប់ មានក្មេងអាយុ ១៤ ឆ្នាំធ្វើការ។",
        "beating": "មេក្រុមបានវាយដំកម្មករម្នាក់នៅមុខមនុស្សគ្រប់គ្នា។",
        "sexual": "អ្នកគ្រប់គ្រងតែងតែយាយីផ្លូវភេទកម្មការិនីនៅក្នុងឃ្លាំង។",
        "threat": "ក្រោយពេលយើងប្តឹងទៅអធិការការងារ អ្នកគ្រប់គ្រងគំរាមបណ្តេញយើងទាំងអស់ចេញពីការងារ។",
        "death": "កម្មករម្នាក់បានស្លាប់ បន្ទាប់ពីធ្លាក់ពីរន្ទា។",
    },
    "zh_Hans": {
        "exit": "夜班的时候二楼的安全出口被锁上了，还用铁链拴着。",
        "injury": "昨天冲压机压断了一个工人的两根手指，机器没有防护罩。",
        "passports": "中介扣着我们的护照，说合同到期才还给我们。",
        "child": "包装车间有十四岁的孩子在干活，用的是假身份证。",
        "beating": "组长当着大家的面打了一个工人。",
        "sexual": "主管经常在仓库对女工动手动脚。",
        "threat": "我们向劳动监察投诉以后，经理威胁要把我们全部开除。",
        "death": "一个工人从脚手架上掉下来摔死了。",
    },
    "zh_Hant": {
        "exit": "夜班時二樓的逃生門被鎖住了，還用鐵鍊綁著。",
        "injury": "昨天沖壓機壓斷了一位工人的兩根手指，機器沒有防護罩。",
        "passports": "仲介扣留我們的護照，說合約到期才還。",
        "child": "包裝部有十四歲的小孩在做工，用的是假的身分證。",
        "beating": "組長當著大家的面毆打一名工人。",
        "sexual": "主管常在倉庫對女工毛手毛腳，還非禮她們。",
        "threat": "我們向勞工局申訴後，經理恐嚇要把我們全部解僱。",
        "death": "一名工人從鷹架上摔下來身亡。",
    },
}

# Ordinary reports: late wages, overtime, canteen food, and words a careless rule would take for danger.
NORMAL: dict[str, list[str]] = {
    "en": [
        "Our wages are always paid ten days late.",
        "We work 80 hours a week in peak season and the overtime rate is wrong.",
        "The canteen food is cold and the rice is old.",
        "They will fire anyone who is late three times, and the deadline for complaints is short.",
        "No fire drill has been held this year and my back hurts from the night shift.",
    ],
    "es": [
        "Nos pagan el salario con diez días de retraso cada quincena.",
        "Trabajamos 60 horas por semana y no nos pagan las horas extra completas.",
        "La comida del comedor es mala y cara, qué lástima.",
        "Es una violación de nuestros derechos que el ambiente sea tan tóxico con el jefe.",
    ],
    "fr": [
        "Notre salaire est versé avec dix jours de retard chaque mois.",
        "Nous faisons beaucoup d'heures supplémentaires qui ne sont pas payées au bon taux.",
        "La nourriture de la cantine est mauvaise et trop chère.",
        "Les mineurs ne sont pas payés pour le temps de transport, tout à coup ils ont changé les primes.",
    ],
    "pl": [
        "Wypłata zawsze przychodzi z dziesięciodniowym opóźnieniem.",
        "Pracujemy po 12 godzin, a nadgodziny nie są płatne.",
        "Jedzenie w stołówce jest zimne i drogie.",
        "Na wypadek choroby nie mamy żadnego ubezpieczenia.",
    ],
    "cs": [
        "Výplatu dostáváme vždy o deset dní později.",
        "Pracujeme 12 hodin denně a přesčasy nám neproplácí.",
        "Jídlo v jídelně je hrozné a drahé, je tam jen bílá rýže.",
        "Na ubytovně bydlí osm lidí v jednom pokoji.",
    ],
    "uk": [
        "Зарплату завжди платять із запізненням на десять днів.",
        "Ми працюємо по 12 годин, а понаднормові не оплачують.",
        "Їжа в їдальні холодна й дорога.",
        "Кровати в общежитии сломаны, нас не відпускають у відпустку.",
    ],
    "id": [
        "Gaji kami selalu telat dibayar sepuluh hari.",
        "Kami lembur 4 jam setiap hari tapi upah lembur tidak sesuai.",
        "Makanan di kantin tidak enak dan mahal.",
        "Listrik di mess sering mati dan kami masuk kerja pukul 7 pagi.",
        "Kami naik kereta api ke pabrik setiap hari dan ongkosnya tidak diganti.",
    ],
    "ms": [
        "Gaji kami selalu lewat dibayar.",
        "Kami kerja lebih masa setiap hari tetapi bayaran tidak betul.",
        "Makanan di kantin tidak sedap dan mahal.",
        "Asrama sesak, sepuluh orang satu bilik, dan bantal pun tiada.",
    ],
    "fil": [
        "Laging late ng sampung araw ang sahod namin.",
        "Nag-o-overtime kami araw-araw pero kulang ang bayad.",
        "Hindi masarap ang pagkain sa canteen at mahal pa.",
        "Pinapatay nila ang aircon sa dormitoryo tuwing gabi.",
    ],
    "sw": [
        "Mshahara wetu unachelewa kila mwezi kwa siku kumi.",
        "Tunafanya kazi saa za ziada bila malipo.",
        "Chakula cha kantini ni kibaya na si cha moto.",
        "Tunatumia maji ya moto ambayo yanakatika mara kwa mara.",
        "Nilipiga simu ofisini lakini hawakujibu.",
    ],
    "vi": [
        "Lương của chúng tôi luôn bị trả chậm mười ngày.",
        "Chúng tôi phải tăng ca 4 tiếng mỗi ngày mà không được trả đủ.",
        "Đồ ăn ở căng tin rất dở và đắt.",
        "Chúng tôi được đánh giá hiệu suất mỗi tháng và phải phỏng vấn lại.",
        "Lương thấp quá, mệt chết đi được mà vẫn không đủ sống.",
    ],
    "hi": [
        "हमारा वेतन हर महीने दस दिन देर से मिलता है।",
        "हमसे रोज़ चार घंटे ओवरटाइम कराया जाता है और पूरा पैसा नहीं मिलता।",
        "कैंटीन का खाना खराब और महंगा है।",
        "आगे से शिफ्ट बदला जाएगा, यह हमें बताया नहीं गया।",
    ],
    "ne": [
        "हाम्रो तलब हरेक महिना दस दिन ढिलो आउँछ।",
        "हामीलाई दिनहुँ चार घण्टा ओभरटाइम गराइन्छ तर पूरा पैसा दिइँदैन।",
        "क्यान्टिनको खाना नमिठो र महँगो छ।",
        "हाम्रो कुटुम्ब गाउँमा छ, बिदा पाइँदैन।",
    ],
    "bn": [
        "প্রতি মাসে আমাদের বেতন দশ দিন দেরিতে দেয়।",
        "প্রতিদিন চার ঘণ্টা ওভারটাইম করায় কিন্তু পুরো টাকা দেয় না।",
        "ক্যান্টিনের খাবার খারাপ আর দাম বেশি।",
        "এই বিষয়ে আমরা আগে অভিযোগ করেছিলাম।",
    ],
    "ur": [
        "ہماری تنخواہ ہر مہینے دس دن دیر سے ملتی ہے۔",
        "روزانہ چار گھنٹے اوور ٹائم کرواتے ہیں مگر پوری رقم نہیں دیتے۔",
        "کینٹین کا کھانا خراب اور مہنگا ہے۔",
        "اس مہینے تنخواہ کٹ گئی اور آگے بھی کٹے گی۔",
    ],
    "ta": [
        "எங்கள் சம்பளம் ஒவ்வொரு மாதமும் பத்து நாள் தாமதமாக வருகிறது.",
        "தினமும் நான்கு மணி நேரம் ஓவர்டைம் செய்ய வைக்கிறார்கள், ஆனால் முழு கூலி தருவதில்லை.",
        "கேண்டீன் உணவு மோசமாகவும் விலை அதிகமாகவும் உள்ளது, காய்கறி கூட இல்லை.",
        "அடிப்படை சம்பளம் குறைவு, அடிக்கடி விடுப்பு ரத்து செய்கிறார்கள்.",
    ],
    "th": [
        "ค่าจ้างของเราออกช้าสิบวันทุกเดือน",
        "เราต้องทำโอทีวันละสี่ชั่วโมงแต่ได้ค่าโอทีไม่ครบ",
        "อาหารในโรงอาหารไม่อร่อยและแพง มีแต่ผักลวก",
        "ค่าแรงตายตัว ไม่เคยขึ้นเลย และถูกตัดเงินเดือนถ้ามาสาย",
    ],
    "my": [
        "လစာကို လတိုင်း ဆယ်ရက်နောက်ကျမှ ပေးတယ်။",
        "နေ့တိုင်း အချိန်ပို လေးနာရီ ဆင်းရပေမယ့် ပိုက်ဆံ အပြည့်မပေးဘူး။",
        "စားသောက်ဆောင်က အစားအစာ မကောင်းဘူး၊ ဈေးလည်းကြီးတယ်။",
        "ဓာတ်ပုံရိုက်ပြီး ID ကတ်လုပ်ခိုင်းတယ်။",
    ],
    "km": [
        "ប្រាក់ខែរបស់យើងបើកយឺតដប់ថ្ងៃរៀងរាល់ខែ។",
        "យើងត្រូវធ្វើការថែមម៉ោងបួនម៉ោងរាល់ថ្ងៃ ប៉ុន្តែមិនបានប្រាក់គ្រប់។",
        "ម្ហូបនៅអាហារដ្ឋានមិនឆ្ងាញ់ ហើយថ្លៃ។",
        "ប្រធានវាយតម្លៃការងាររៀងរាល់ខែ។",
    ],
    "zh_Hans": [
        "工资每个月都晚发十天。",
        "每天加班四个小时，加班费不对。",
        "食堂的饭菜又贵又难吃。",
        "宿舍热死了，二十个人一间。",
        "用手指按指纹打卡，经常打不上。",
    ],
    "zh_Hant": [
        "薪水每個月都晚發十天。",
        "每天加班四小時，加班費算錯。",
        "餐廳的飯菜又貴又難吃。",
        "宿舍熱死了，二十個人一間，累死了。",
    ],
}

# Typed on a phone without diacritics: the same reports must keep their rating.
UNMARKED = ("vi", "cs", "pl", "es", "fr")


def unmarked(text: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return stripped.translate(str.maketrans("đĐłŁ", "dDlL"))


def severity(text: str, locale: str = "en") -> str:
    return initial_severity(Report(channel=Channel.WEB, description=text, locale=locale))


URGENT_CASES = [(loc, kind, text) for loc, kinds in URGENT.items() for kind, text in kinds.items()]
NORMAL_CASES = [(loc, text) for loc, texts in NORMAL.items() for text in texts]


def test_every_shipped_locale_is_covered() -> None:
    assert set(URGENT) == set(NORMAL) == set(i18n.available_locales())
    assert all(set(kinds) == set(URGENT["en"]) for kinds in URGENT.values())
    rules = {lang.code for lang in (*LATIN, *ASIA)}
    assert {loc.split("_")[0] for loc in URGENT} <= rules
    for lang in (*LATIN, *ASIA):
        assert set(lang.rules) | set(lang.exact) == set(KINDS), lang.code


@pytest.mark.parametrize(("locale", "kind", "text"), URGENT_CASES, ids=[f"{loc}-{k}" for loc, k, _ in URGENT_CASES])
def test_urgent(locale: str, kind: str, text: str) -> None:
    assert severity(text, locale) == "urgent"


@pytest.mark.parametrize(
    ("locale", "text"), NORMAL_CASES, ids=[f"{loc}-{i}" for i, (loc, _) in enumerate(NORMAL_CASES)]
)
def test_ordinary_reports_are_not_raised(locale: str, text: str) -> None:
    assert severity(text, locale) == "normal"


@pytest.mark.parametrize("locale", UNMARKED)
def test_without_diacritics(locale: str) -> None:
    missed = [kind for kind, text in URGENT[locale].items() if severity(unmarked(text), locale) != "urgent"]
    raised = [text for text in NORMAL[locale] if severity(unmarked(text), locale) != "normal"]
    assert (missed, raised) == ([], [])


def test_the_language_setting_does_not_matter() -> None:
    """A worker may write in a language other than the one the form or the SMS menu was set to."""
    for locale in ("ur", "my", "km", "sw"):
        assert severity(URGENT[locale]["exit"], "en") == "urgent"
    assert severity(URGENT["en"]["passports"], "km") == "urgent"


def test_inflections_and_variants() -> None:
    for text in (
        "The agency keeps our passports.",
        "The agency is keeping my passport.",
        "They withheld our passports.",
        "Our passports were confiscated by the broker.",
        "護照被仲介扣押了。",
        "Agencja trzyma nasze paszporty.",
        "Агенція тримає наші паспорти.",
        "Nám zabavili pasy.",
    ):
        assert severity(text) == "urgent", text


def test_a_long_ordinary_report_stays_normal_and_a_late_urgent_word_is_found() -> None:
    long = " ".join(text for texts in NORMAL.values() for text in texts) * 20
    assert len(long) > 15_000
    assert severity(long[:20_000]) == "normal"
    assert severity(long[:19_900] + " " + URGENT["km"]["exit"]) == "urgent"


def test_the_locked_exit_is_urgent_in_every_language_through_the_drain(node: Node) -> None:
    from intake.services import IntakeService, accept_report

    service = IntakeService.open(node.settings)
    try:
        for locale, kinds in URGENT.items():
            accept_report(service, Report(channel=Channel.SMS, locale=locale, description=kinds["exit"]))
        accept_report(service, Report(channel=Channel.SMS, locale="ur", description=NORMAL["ur"][0]))
    finally:
        service.close()
    _, cases = drain_node(node)
    rated = {c.description: c.severity for c in cases}
    assert {rated[kinds["exit"]] for kinds in URGENT.values()} == {"urgent"}
    assert rated[NORMAL["ur"][0]] == "normal"


def test_the_compiled_tree_says_what_the_patterns_say() -> None:
    """triage_regex unfolds and regroups the patterns for speed; on every test text it agrees with them as written."""
    texts = [t for kinds in URGENT.values() for t in kinds.values()] + [t for ts in NORMAL.values() for t in ts]
    texts += [unmarked(t) for t in texts] + ["The agency keeps our passports.", "Fired up about the schedule"]
    for module, langs in ((triage_rules, LATIN), (triage_rules_asia, ASIA)):
        fold, fold_pattern = (
            (triage_rules.fold_latin, triage_rules.fold_latin_pattern)
            if module is triage_rules
            else (triage_rules_asia.fold_asia, triage_rules_asia.fold_asia_pattern)
        )
        folded = [fold(t) for t in texts]
        for lang in langs:
            for kind in KINDS:
                parts = [f"{module.WORD_START}(?:{fold_pattern(lang.rules[kind])})"] if kind in lang.rules else []
                parts += [f"(?:{fold_pattern(lang.exact[kind])})"] if kind in lang.exact else []
                as_written = re.compile("|".join(parts).replace("~", module.WINDOW))
                tree = compile_family(
                    [lang], kinds=[kind], fold_pattern=fold_pattern, word_start=module.WORD_START, window=module.WINDOW
                )
                found = [t for t in folded if bool(as_written.search(t)) != bool(tree.search(t))]
                assert found == [], (lang.code, kind)
