"""A synthetic corpus of complaints in the 21 shipped languages, with every identifier's span known.

Issue 12 item 4: names in the story reach the relay summary when no cue word stands before them.
This builds narratives with people's names (the worker, supervisors, co-workers) in every position:
opening the message, subject, object, after a role word or title, without any cue, alone or as a
full name, in scripts written without spaces (Chinese, Thai, Burmese, Khmer) and with them; and the
other identifiers redaction handles (phones, e-mails, worker numbers). Everything is synthetic.

Two pools of names per language: ``common`` names (the kind a names list holds) and ``rare`` ones
(real-looking but uncommon: many are not in the shipped list, see :func:`listed`). The measurement
reports both, so the figure is not a list measured against itself.

Used by ``tests/relay/test_redact_names.py`` (quality asserts on a fixed seed) and
``bench/bench_redact.py`` (figures and timing).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers

LANGS = (
    "en", "bn", "cs", "es", "fil", "fr", "hi", "id", "km", "ms", "my",
    "ne", "pl", "sw", "ta", "th", "uk", "ur", "vi", "zh_Hans", "zh_Hant",
)  # fmt: skip
#: Languages written without spaces between words: over-redaction is counted in characters there.
UNSPACED = frozenset({"km", "my", "th", "zh_Hans", "zh_Hant"})


@dataclass(frozen=True)
class Lang:
    sep: str  # between sentences
    fillers: tuple[str, ...]  # sentences without identifiers (role nouns, places, numbers included)
    opening: tuple[str, ...]  # "{n} here." and the like: the name opens the message
    subject: tuple[str, ...]
    obj: tuple[str, ...]
    cue: tuple[str, ...]  # after a role word or title
    pair: tuple[str, ...]  # two names, {n} and {m}
    phone: str
    email: str
    badge: str
    given: tuple[str, ...]  # common given names
    family: tuple[str, ...]  # common family names ("" when the language has none to add)
    rare: tuple[str, ...]  # uncommon names, single or full
    full: Callable[[str, str], str] = lambda g, f: f"{g} {f}"
    region: str = "US"


def _zh_full(g: str, f: str) -> str:
    return f + g


def _family_first(g: str, f: str) -> str:
    return f"{f} {g}"


L: dict[str, Lang] = {
    "en": Lang(
        " ",
        (
            "We worked 12 hours a day from 8:00 to 22:00.",
            "The supervisor shouted at us every morning.",
            "Overtime was not paid for three months.",
            "The manager locked the fire exit at night.",
            "A worker was injured by the press and nobody helped.",
            "The agency keeps our passports in the office.",
            "We make phone cases for a big brand in Shenzhen.",
            "The guard searched our bags on Monday.",
            "Our wages of $300 were paid late on 2026-03-04.",
            "Nobody from the company answered our complaint.",
        ),
        ("{n} here.", "{n} here, from the sewing floor."),
        ("{n} was hit by the supervisor.", "{n} has not been paid since March."),
        ("The manager fired {n} without pay.", "They told {n} to work on Sunday."),
        ("My co-worker {n} saw everything.", "Our supervisor {n} locks the toilets."),
        ("{n} and {m} were not paid.",),
        "You can call me on {x} after work.",
        "Write to {x} if you need more.",
        "My badge number is {x}.",
        ("James", "Mary", "Michael", "Jennifer", "David", "Linda", "Robert", "Patricia"),
        ("Smith", "Johnson", "Brown", "Williams", "Taylor", "Miller"),
        ("Tamsin Fotheringham", "Thaddeus", "Eulalie Winterbourne", "Ignatius Higginbottom", "Perpetua", "Lowenna"),
        region="GB",
    ),
    "es": Lang(
        " ",
        (
            "Trabajamos 12 horas al día sin descanso.",
            "El supervisor nos grita todas las mañanas.",
            "No nos pagan las horas extra desde marzo.",
            "La gerente cerró la salida de emergencia.",
            "Nos pagan 1.500 pesos a la semana.",
            "Un compañero se lastimó la mano con la máquina.",
            "La empresa de Monterrey no contesta nuestras quejas.",
            "El guardia revisa nuestras bolsas cada tarde.",
            "Somos 300 trabajadoras en la fábrica.",
            "Nadie de recursos humanos nos escuchó.",
        ),
        ("{n}, de costura, les escribe.", "{n} escribiendo desde la fábrica."),
        ("{n} fue golpeada por el supervisor.", "{n} no recibe su sueldo desde marzo."),
        ("El gerente despidió a {n} sin pagarle.", "Obligaron a {n} a trabajar el domingo."),
        ("Mi compañera {n} vio todo.", "Nuestro supervisor {n} cierra los baños."),
        ("{n} y {m} no cobraron.",),
        "Pueden llamarme al {x} después del trabajo.",
        "Mi correo es {x} por si necesitan más.",
        "Mi número de empleado es {x}.",
        ("José", "María", "Guadalupe", "Juan", "Carmen", "Luis", "Rosa", "Francisco"),
        ("Hernández", "García", "Martínez", "López", "Ramírez", "Flores"),
        ("Eleuterio Cuauhtle", "Hermelinda", "Tiburcio Xochihua", "Nicanora", "Filogonio Tepepa", "Macrina"),
        region="MX",
    ),
    "fr": Lang(
        " ",
        (
            "Nous travaillons douze heures par jour sans pause.",
            "Le chef d'équipe nous crie dessus tous les matins.",
            "Les heures supplémentaires ne sont pas payées depuis mars.",
            "La directrice a fermé la sortie de secours.",
            "On nous paie 60 000 francs par mois.",
            "Une ouvrière s'est blessée à la main sur la machine.",
            "La société de Kinshasa ne répond pas à nos plaintes.",
            "Le gardien fouille nos sacs chaque soir.",
            "Nous sommes 300 ouvrières dans l'usine.",
            "Personne aux ressources humaines ne nous écoute.",
        ),
        ("{n}, de l'atelier couture, vous écrit.", "{n} ici, ouvrière à l'usine."),
        ("{n} a été frappée par le chef.", "{n} n'a pas reçu son salaire depuis mars."),
        ("Le directeur a renvoyé {n} sans la payer.", "Ils ont obligé {n} à travailler le dimanche."),
        ("Ma collègue {n} a tout vu.", "Notre chef {n} ferme les toilettes à clé."),
        ("{n} et {m} n'ont pas été payés.",),
        "Vous pouvez m'appeler au {x} après le travail.",
        "Mon adresse est {x} si besoin.",
        "Mon matricule est {x}.",
        ("Marie", "Jean", "Pierre", "Sophie", "Nathalie", "Mamadou", "Christelle", "Emmanuel"),
        ("Martin", "Dubois", "Diallo", "Traoré", "Moreau", "Bernard"),
        ("Anastasie Tshibangu", "Théodule", "Euphrasie Lukusa", "Gwenaëlle", "Dieudonné Rabearivelo", "Clotilde"),
        region="FR",
    ),
    "cs": Lang(
        " ",
        (
            "Pracujeme dvanáct hodin denně bez přestávky.",
            "Mistr na nás každé ráno křičí.",
            "Přesčasy nám neplatí od března.",
            "Vedoucí zamkla nouzový východ.",
            "Dostáváme 18 000 korun měsíčně.",
            "Jedna dělnice si poranila ruku o stroj.",
            "Agentura v Plzni neodpovídá na naše stížnosti.",
            "Vrátný nám každý večer prohledává tašky.",
            "Ve firmě je nás 300 zaměstnanců.",
            "Nikdo z personálního oddělení nás neposlouchá.",
        ),
        ("{n} z montáže vám píše.", "{n}, dělnice z linky, píše tuto stížnost."),
        ("{n} dostala ránu od mistra.", "{n} nedostala mzdu od března."),
        ("Vedoucí propustil {n} bez výplaty.", "Nutili {n} pracovat v neděli."),
        ("Moje kolegyně {n} všechno viděla.", "Náš mistr {n} zamyká toalety."),
        ("{n} a {m} nedostali zaplaceno.",),
        "Můžete mi zavolat na {x} po práci.",
        "Můj e-mail je {x}.",
        "Moje osobní číslo je {x}.",
        ("Petr", "Jana", "Tomáš", "Lenka", "Jiří", "Kateřina", "Pavel", "Eva"),
        ("Novák", "Svobodová", "Dvořák", "Procházková", "Černý", "Veselá"),
        ("Bohuslav Vrbenský", "Drahomíra", "Ctibor Kopřiva", "Radslava", "Dobromil Žďárský", "Ludmila Hrachovcová"),
        region="CZ",
    ),
    "pl": Lang(
        " ",
        (
            "Pracujemy dwanaście godzin dziennie bez przerwy.",
            "Brygadzista krzyczy na nas każdego ranka.",
            "Nadgodziny nie są płacone od marca.",
            "Kierowniczka zamknęła wyjście ewakuacyjne.",
            "Dostajemy 3 500 zł miesięcznie.",
            "Jedna pracownica zraniła rękę na maszynie.",
            "Agencja we Wrocławiu nie odpowiada na skargi.",
            "Ochroniarz przeszukuje nasze torby co wieczór.",
            "W zakładzie pracuje nas 300 osób.",
            "Nikt z kadr nas nie słucha.",
        ),
        ("{n} z montażu pisze do was.", "{n}, pracownica z linii, pisze tę skargę."),
        ("{n} została uderzona przez brygadzistę.", "{n} nie dostała pensji od marca."),
        ("Kierownik zwolnił {n} bez wypłaty.", "Kazali {n} pracować w niedzielę."),
        ("Moja koleżanka {n} wszystko widziała.", "Nasz brygadzista {n} zamyka toalety."),
        ("{n} i {m} nie dostali pieniędzy.",),
        "Można do mnie dzwonić pod {x} po pracy.",
        "Mój e-mail to {x}.",
        "Mój numer pracownika to {x}.",
        ("Anna", "Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Michał", "Ewa", "Krzysztof"),
        ("Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Zając"),
        ("Bożydar Szczepkowiak", "Wszebora", "Dobiesław Chrząszczewski", "Świętomira", "Ziemowit", "Grzybczyńska"),
        region="PL",
    ),
    "id": Lang(
        " ",
        (
            "Kami bekerja 12 jam sehari tanpa istirahat.",
            "Mandor membentak kami setiap pagi.",
            "Lembur tidak dibayar sejak bulan Maret.",
            "Manajer mengunci pintu darurat.",
            "Gaji kami Rp 2.500.000 sebulan.",
            "Seorang buruh terluka tangannya oleh mesin.",
            "Perusahaan di Bekasi tidak menjawab keluhan kami.",
            "Satpam memeriksa tas kami setiap sore.",
            "Ada 300 buruh perempuan di pabrik ini.",
            "Tidak ada yang dari bagian personalia mendengarkan kami.",
        ),
        ("{n} di sini, dari bagian jahit.", "{n}, buruh jahit, menulis pengaduan ini."),
        ("{n} dipukul oleh mandor.", "{n} belum menerima gaji sejak Maret."),
        ("Manajer memecat {n} tanpa pesangon.", "Mereka memaksa {n} bekerja hari Minggu."),
        ("Teman kerja saya {n} melihat semuanya.", "Mandor kami {n} mengunci toilet."),
        ("{n} dan {m} tidak dibayar.",),
        "Hubungi saya di {x} setelah kerja.",
        "Email saya {x}.",
        "Nomor karyawan saya {x}.",
        ("Budi", "Siti", "Agus", "Dewi", "Bambang", "Sri", "Wahyu", "Rina"),
        ("Wijaya", "Setiawan", "Santoso", "Kurniawan", "Hidayat", "Saputra"),
        ("Ngatemi", "Sukijan Wiryodiningrat", "Painem", "Tjokorda Cokroaminoto", "Paijo", "Sumiyem"),
        region="ID",
    ),
    "ms": Lang(
        " ",
        (
            "Kami bekerja 12 jam sehari tanpa rehat.",
            "Penyelia menengking kami setiap pagi.",
            "Kerja lebih masa tidak dibayar sejak bulan Mac.",
            "Pengurus mengunci pintu kecemasan.",
            "Gaji kami RM 1 500 sebulan.",
            "Seorang pekerja cedera tangan kerana mesin.",
            "Syarikat di Penang tidak menjawab aduan kami.",
            "Pengawal memeriksa beg kami setiap petang.",
            "Ada 300 pekerja wanita di kilang ini.",
            "Tiada sesiapa dari sumber manusia mendengar kami.",
        ),
        ("{n} di sini, dari bahagian jahitan.", "{n}, pekerja kilang, menulis aduan ini."),
        ("{n} dipukul oleh penyelia.", "{n} belum menerima gaji sejak Mac."),
        ("Pengurus memecat {n} tanpa gaji.", "Mereka memaksa {n} bekerja pada hari Ahad."),
        ("Rakan sekerja saya {n} nampak semuanya.", "Penyelia kami {n} mengunci tandas."),
        ("{n} dan {m} tidak dibayar.",),
        "Hubungi saya di {x} selepas kerja.",
        "E-mel saya {x}.",
        "Nombor pekerja saya {x}.",
        ("Ahmad", "Nurul", "Siti", "Muhammad", "Aisyah", "Farid", "Zainab", "Hafiz"),
        ("Ismail", "Abdullah", "Hassan", "Ibrahim", "Othman", "Yusof"),
        ("Kamsiah", "Awangku Jemaat", "Sabariah", "Megat Zulkarnain", "Rokiah", "Dayang Salmah"),
        full=lambda g, f: f"{g} bin {f}",
        region="MY",
    ),
    "fil": Lang(
        " ",
        (
            "Nagtatrabaho kami ng 12 oras araw-araw.",
            "Sinisigawan kami ng superbisor tuwing umaga.",
            "Hindi binabayaran ang overtime mula Marso.",
            "Ikinandado ng manager ang fire exit.",
            "Ang sahod namin ay 500 piso bawat araw.",
            "Nasugatan ang kamay ng isang manggagawa sa makina.",
            "Hindi sumasagot ang kompanya sa Cavite sa aming reklamo.",
            "Kinakapkapan kami ng guwardiya tuwing hapon.",
            "May 300 manggagawa sa pabrika.",
            "Walang nakikinig sa amin sa HR.",
        ),
        ("{n} po ito, taga-pananahi.", "{n} ito, manggagawa sa pabrika."),
        ("{n} ay sinaktan ng superbisor.", "Si {n} ay hindi pa sumasahod mula Marso."),
        ("Tinanggal ng manager si {n} nang walang bayad.", "Pinilit nila si {n} na magtrabaho ng Linggo."),
        ("Nakita lahat ng katrabaho kong si {n}.", "Ang superbisor naming si {n} ang nagkakandado ng CR."),
        ("Hindi binayaran sina {n} at {m}.",),
        "Tawagan ninyo ako sa {x} pagkatapos ng trabaho.",
        "Ang email ko ay {x}.",
        "Ang numero ng empleyado ko ay {x}.",
        ("Maricel", "Jocelyn", "Arnel", "Rowena", "Jerome", "Marites", "Noel", "Rey"),
        ("Reyes", "Bautista", "Villanueva", "Santos", "Aquino", "Mendoza"),
        ("Liwayway Macaraeg", "Dakila", "Amihan Dimaculangan", "Bayani", "Tagumpay", "Ligaya Pangilinan"),
        region="PH",
    ),
    "sw": Lang(
        " ",
        (
            "Tunafanya kazi saa 12 kwa siku bila mapumziko.",
            "Msimamizi anatufokea kila asubuhi.",
            "Saa za ziada hazijalipwa tangu Machi.",
            "Meneja alifunga mlango wa dharura.",
            "Tunalipwa shilingi 9,000 kwa wiki.",
            "Mfanyakazi mmoja aliumia mkono kwenye mashine.",
            "Kampuni ya Mombasa haijibu malalamiko yetu.",
            "Mlinzi anapekua mifuko yetu kila jioni.",
            "Tuko wafanyakazi 300 kiwandani.",
            "Hakuna mtu wa rasilimali watu anayetusikiliza.",
        ),
        ("{n} hapa, kutoka idara ya kushona.", "{n}, mfanyakazi wa kiwanda, naandika malalamiko haya."),
        ("{n} alipigwa na msimamizi.", "{n} hajalipwa mshahara tangu Machi."),
        ("Meneja alimfukuza {n} bila malipo.", "Walimlazimisha {n} kufanya kazi Jumapili."),
        ("Mfanyakazi mwenzangu {n} aliona kila kitu.", "Msimamizi wetu {n} anafunga vyoo."),
        ("{n} na {m} hawakulipwa.",),
        "Unaweza kunipigia kwa {x} baada ya kazi.",
        "Barua pepe yangu ni {x}.",
        "Namba yangu ya mfanyakazi ni {x}.",
        ("Juma", "Amina", "Baraka", "Neema", "Hassani", "Rehema", "Mwanaisha", "Otieno"),
        ("Mwangi", "Wanjiru", "Kamau", "Ochieng", "Akinyi", "Mushi"),
        ("Zawadi Mwakyembe", "Tumaini", "Nyokabi Kiprotich", "Chausiku", "Shukuru Lyimo", "Mwanaidi"),
        region="KE",
    ),
    "vi": Lang(
        " ",
        (
            "Chúng tôi làm việc 12 tiếng mỗi ngày.",
            "Quản lý mắng chúng tôi mỗi sáng.",
            "Tiền tăng ca không được trả từ tháng 3.",
            "Tổ trưởng khóa cửa thoát hiểm vào ban đêm.",
            "Lương 7.000.000 đồng một tháng bị trả chậm.",
            "Một công nhân bị máy ép vào tay.",
            "Công ty ở Bình Dương không trả lời khiếu nại.",
            "Bảo vệ khám túi của chúng tôi mỗi chiều.",
            "Xưởng có 300 công nhân nữ.",
            "Lần trước không ai ở phòng nhân sự nghe chúng tôi.",
        ),
        ("{n} đây, ở xưởng may.", "{n}, công nhân may, viết khiếu nại này."),
        ("{n} bị tổ trưởng đánh.", "{n} chưa nhận lương từ tháng 3."),
        ("Quản lý đuổi việc {n} mà không trả lương.", "Họ bắt {n} làm ngày chủ nhật."),
        ("Đồng nghiệp của tôi là {n} thấy hết.", "Tổ trưởng {n} khóa nhà vệ sinh."),
        ("{n} và {m} không được trả lương.",),
        "Gọi cho tôi số {x} sau giờ làm.",
        "Email của tôi là {x}.",
        "Mã NV của tôi là {x}.",
        ("Lan", "Hùng", "Tuấn", "Hoa", "Minh", "Linh", "Dũng", "Thảo"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"),
        ("Khổng Thị Khuê", "Thục", "Ninh Văn Quế", "Diễm", "Thân Thị Nguyệt", "Âu Văn Lực"),
        full=lambda g, f: f"{f} {'Thị' if g in ('Lan', 'Hoa', 'Linh', 'Thảo') else 'Văn'} {g}",
        region="VN",
    ),
    "uk": Lang(
        " ",
        (
            "Ми працюємо 12 годин на день без перерви.",
            "Майстер кричить на нас щоранку.",
            "Понаднормові не оплачують з березня.",
            "Начальниця замкнула аварійний вихід.",
            "Нам платять 9 000 гривень на місяць.",
            "Одна працівниця поранила руку на верстаті.",
            "Агенція у Львові не відповідає на скарги.",
            "Охоронець обшукує наші сумки щовечора.",
            "На фабриці нас 300 працівниць.",
            "Ніхто з відділу кадрів нас не слухає.",
        ),
        ("{n} з цеху пише вам.", "{n}, швачка з фабрики, пише цю скаргу."),
        ("{n} отримала удар від майстра.", "{n} не отримує зарплату з березня."),
        ("Начальник звільнив {n} без виплати.", "Вони змусили {n} працювати в неділю."),
        ("Моя колега {n} все бачила.", "Наш майстер {n} замикає туалети."),
        ("{n} і {m} не отримали грошей.",),
        "Телефонуйте мені на {x} після роботи.",
        "Моя пошта {x}.",
        "Мій табельний номер {x}.",
        ("Олена", "Оксана", "Тарас", "Андрій", "Наталія", "Ігор", "Юлія", "Сергій"),
        ("Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Мельник", "Кравченко"),
        ("Звенислава Дзюбенко", "Ярема", "Богдана Залізняк", "Остап Лукашевичук", "Мирослава", "Любомир Гнатюк"),
        region="UA",
    ),
    "hi": Lang(
        " ",
        (
            "हम रोज़ 12 घंटे काम करते हैं।",
            "सुपरवाइजर हर सुबह हम पर चिल्लाता है।",
            "मार्च से ओवरटाइम का पैसा नहीं मिला।",
            "मैनेजर ने आपातकालीन दरवाज़ा बंद कर दिया।",
            "हमें महीने के 9000 रुपये मिलते हैं।",
            "एक मज़दूर का हाथ मशीन में घायल हो गया।",
            "गुड़गांव की कंपनी हमारी शिकायत का जवाब नहीं देती।",
            "गार्ड हर शाम हमारे बैग की तलाशी लेता है।",
            "फैक्ट्री में 300 महिला मज़दूर हैं।",
            "ठेकेदार ने हमें गाली दी।",
        ),
        ("{n} बोल रही हूँ, सिलाई विभाग से।", "{n}, फैक्ट्री की मज़दूर, यह शिकायत लिख रही है।"),
        ("{n} को सुपरवाइजर ने मारा।", "{n} ने मार्च से तनख्वाह नहीं पाई।"),
        ("मैनेजर ने {n} को बिना पैसे के निकाल दिया।", "उन्होंने {n} से रविवार को काम करवाया।"),
        ("मेरी सहकर्मी {n} ने सब देखा।", "हमारे सुपरवाइजर {n} शौचालय पर ताला लगाते हैं।"),
        ("{n} और {m} को पैसे नहीं मिले।",),
        "काम के बाद मुझे {x} पर फ़ोन करें।",
        "मेरा ईमेल {x} है।",
        "मेरा कर्मचारी नंबर {x} है।",
        ("राहुल", "सुनीता", "राजेश", "पूजा", "अमित", "गीता", "सुरेश", "अनीता"),
        ("शर्मा", "यादव", "सिंह", "गुप्ता", "वर्मा", "कुमार"),
        ("धनपत कुशवाहा", "भागीरथी", "चंपाबाई निषाद", "रामखिलावन", "फूलमती बघेल", "सुखलाल"),
        region="IN",
    ),
    "ne": Lang(
        " ",
        (
            "हामी दिनको १२ घण्टा काम गर्छौं।",
            "सुपरभाइजर हरेक बिहान हामीलाई गाली गर्छ।",
            "चैतदेखि ओभरटाइमको पैसा पाएका छैनौं।",
            "म्यानेजरले आपतकालीन ढोका बन्द गर्यो।",
            "हामीलाई महिनाको १५ हजार रुपैयाँ दिन्छ।",
            "एक जना मजदुरको हात मेसिनमा घाइते भयो।",
            "काठमाडौंको कम्पनीले हाम्रो उजुरीको जवाफ दिँदैन।",
            "गार्डले हरेक साँझ हाम्रो झोला खानतलासी गर्छ।",
            "कारखानामा ३०० महिला मजदुर छन्।",
            "ठेकेदारले हामीलाई धम्की दियो।",
        ),
        ("{n} बोल्दैछु, सिलाई विभागबाट।", "{n}, कारखानाकी मजदुर, यो उजुरी लेख्दैछु।"),
        ("{n}लाई सुपरभाइजरले कुट्यो।", "{n}ले चैतदेखि तलब पाएकी छैन।"),
        ("म्यानेजरले {n}लाई तलब नदिई निकाल्यो।", "उनीहरूले {n}लाई शनिबार काम गराए।"),
        ("मेरी साथी {n}ले सबै देखिन्।", "हाम्रा सुपरभाइजर {n} शौचालयमा ताला लगाउँछन्।"),
        ("{n} र {m}ले तलब पाएनन्।",),
        "कामपछि मलाई {x} मा फोन गर्नुहोस्।",
        "मेरो इमेल {x} हो।",
        "मेरो कर्मचारी नम्बर {x} हो।",
        ("राम", "सीता", "हरि", "गीता", "कृष्ण", "सरिता", "बिकास", "मीना"),
        ("श्रेष्ठ", "थापा", "गुरुङ", "तामाङ", "अधिकारी", "राई"),
        ("तुलसीमाया ढुङ्गाना", "डम्बरबहादुर", "पुनमाया घिमिरे", "लिलाधर", "चन्द्रकला बुढाथोकी", "टेकबहादुर"),
        region="NP",
    ),
    "bn": Lang(
        " ",
        (
            "আমরা প্রতিদিন ১২ ঘণ্টা কাজ করি।",
            "সুপারভাইজার প্রতিদিন সকালে আমাদের বকাঝকা করে।",
            "মার্চ থেকে ওভারটাইমের টাকা পাইনি।",
            "ম্যানেজার জরুরি বের হওয়ার দরজা তালা দিয়েছে।",
            "আমরা মাসে ৮০০০ টাকা পাই।",
            "একজন শ্রমিকের হাত মেশিনে কেটে গেছে।",
            "গাজীপুরের কোম্পানি আমাদের অভিযোগের উত্তর দেয় না।",
            "গার্ড প্রতি সন্ধ্যায় আমাদের ব্যাগ তল্লাশি করে।",
            "কারখানায় ৩০০ জন নারী শ্রমিক আছে।",
            "লাইন চিফ আমাদের হুমকি দিয়েছে।",
        ),
        ("{n} বলছি, সেলাই বিভাগ থেকে।", "{n}, কারখানার শ্রমিক, এই অভিযোগ লিখছি।"),
        ("{n}কে সুপারভাইজার মেরেছে।", "{n} মার্চ থেকে বেতন পায়নি।"),
        ("ম্যানেজার {n}কে বেতন ছাড়াই ছাঁটাই করেছে।", "তারা {n}কে শুক্রবারে কাজ করিয়েছে।"),
        ("আমার সহকর্মী {n} সব দেখেছে।", "আমাদের সুপারভাইজার {n} বাথরুমে তালা দেয়।"),
        ("{n} আর {m} বেতন পায়নি।",),
        "কাজের পরে আমাকে {x} নম্বরে ফোন করুন।",
        "আমার ইমেইল {x}।",
        "আমার কর্মী নম্বর {x}।",
        ("রহিম", "করিম", "ফাতেমা", "নাসরিন", "সুমন", "রুবেল", "শাহানা", "জাহিদ"),
        ("ইসলাম", "হোসেন", "রহমান", "আহমেদ", "খাতুন", "বেগম"),
        ("মোমেনা মৃধা", "আজগর", "ছবুরা হাওলাদার", "তোফাজ্জল", "জোবেদা পাটোয়ারী", "নূরজাহান"),
        region="BD",
    ),
    "ta": Lang(
        " ",
        (
            "நாங்கள் தினமும் 12 மணி நேரம் வேலை செய்கிறோம்.",
            "மேற்பார்வையாளர் தினமும் காலையில் எங்களைத் திட்டுகிறார்.",
            "மார்ச் முதல் கூடுதல் நேர ஊதியம் கொடுக்கவில்லை.",
            "மேலாளர் அவசர வாசலைப் பூட்டினார்.",
            "எங்களுக்கு மாதம் 9000 ரூபாய் தருகிறார்கள்.",
            "ஒரு தொழிலாளியின் கை இயந்திரத்தில் காயமடைந்தது.",
            "திருப்பூர் நிறுவனம் எங்கள் புகாருக்குப் பதில் சொல்லவில்லை.",
            "காவலர் ஒவ்வொரு மாலையும் எங்கள் பைகளைச் சோதிக்கிறார்.",
            "ஆலையில் 300 பெண் தொழிலாளர்கள் இருக்கிறார்கள்.",
            "ஒப்பந்ததாரர் எங்களை மிரட்டினார்.",
        ),
        ("{n} பேசுகிறேன், தையல் பிரிவிலிருந்து.", "{n}, ஆலைத் தொழிலாளி, இந்தப் புகாரை எழுதுகிறேன்."),
        ("{n} மேற்பார்வையாளரால் அடிக்கப்பட்டார்.", "{n} மார்ச் முதல் சம்பளம் பெறவில்லை."),
        ("மேலாளர் {n} அவர்களைச் சம்பளம் இல்லாமல் நீக்கினார்.", "அவர்கள் {n} அவர்களை ஞாயிறு வேலை செய்ய வைத்தனர்."),
        ("என் சக ஊழியர் {n} எல்லாவற்றையும் பார்த்தார்.", "எங்கள் மேற்பார்வையாளர் {n} கழிப்பறையைப் பூட்டுகிறார்."),
        ("{n} மற்றும் {m} சம்பளம் பெறவில்லை.",),
        "வேலைக்குப் பிறகு {x} என்ற எண்ணில் அழையுங்கள்.",
        "என் மின்னஞ்சல் {x}.",
        "என் ஊழியர் எண் {x}.",
        ("முருகன்", "செல்வி", "கார்த்திக்", "லட்சுமி", "சரவணன்", "மீனா", "ராஜா", "கவிதா"),
        ("குமார்", "பாண்டியன்", "சுப்பிரமணியம்", "ராஜன்", "முத்து", "கண்ணன்"),
        ("பொன்னுத்தாய்", "வள்ளியம்மை சின்னசாமி", "அழகம்மாள்", "இருளப்பன் வேலுச்சாமி", "கருப்பாயி", "தங்கமணி"),
        region="IN",
    ),
    "ur": Lang(
        " ",
        (
            "ہم روزانہ 12 گھنٹے کام کرتے ہیں۔",
            "سپروائزر ہر صبح ہم پر چیختا ہے۔",
            "مارچ سے اوور ٹائم کی رقم نہیں ملی۔",
            "مینیجر نے ہنگامی دروازہ بند کر دیا۔",
            "ہمیں مہینے کے 25000 روپے ملتے ہیں۔",
            "ایک مزدور کا ہاتھ مشین میں زخمی ہو گیا۔",
            "فیصل آباد کی کمپنی ہماری شکایت کا جواب نہیں دیتی۔",
            "گارڈ ہر شام ہمارے تھیلوں کی تلاشی لیتا ہے۔",
            "فیکٹری میں 300 خواتین مزدور ہیں۔",
            "ٹھیکیدار نے ہمیں دھمکی دی۔",
        ),
        ("{n} بول رہی ہوں، سلائی کے شعبے سے۔", "{n}، فیکٹری کی مزدور، یہ شکایت لکھ رہی ہوں۔"),
        ("{n} کو سپروائزر نے مارا۔", "{n} کو مارچ سے تنخواہ نہیں ملی۔"),
        ("مینیجر نے {n} کو بغیر تنخواہ کے نکال دیا۔", "انہوں نے {n} سے اتوار کو کام کروایا۔"),
        ("میری ساتھی {n} نے سب دیکھا۔", "ہمارے سپروائزر {n} بیت الخلا پر تالا لگاتے ہیں۔"),
        ("{n} اور {m} کو تنخواہ نہیں ملی۔",),
        "کام کے بعد مجھے {x} پر فون کریں۔",
        "میری ای میل {x} ہے۔",
        "میرا ملازم نمبر {x} ہے۔",
        ("محمد", "احمد", "فاطمہ", "علی", "عائشہ", "عمران", "نسرین", "بلال"),
        ("خان", "حسین", "اقبال", "قریشی", "بٹ", "ملک"),
        ("بختاور گوندل", "شگفتہ", "گلناز چٹھہ", "رخسانہ", "اللہ دتہ وڑائچ", "مہرالنساء"),
        region="PK",
    ),
    "th": Lang(
        " ",
        (
            "พวกเราทำงานวันละ 12 ชั่วโมง",
            "หัวหน้างานตะโกนใส่พวกเราทุกเช้า",
            "ค่าล่วงเวลาไม่ได้จ่ายตั้งแต่เดือนมีนาคม",
            "ผู้จัดการล็อกประตูหนีไฟ",
            "เราได้ค่าจ้างวันละ 350 บาท",
            "คนงานคนหนึ่งมือบาดเจ็บจากเครื่องจักร",
            "บริษัทที่ชลบุรีไม่ตอบคำร้องเรียนของเรา",
            "ยามค้นกระเป๋าของเราทุกเย็น",
            "ในโรงงานมีคนงานหญิง 300 คน",
            "ไม่มีใครในฝ่ายบุคคลฟังเรา",
        ),
        ("{n}เองค่ะ จากแผนกเย็บ", "{n} คนงานโรงงาน เขียนคำร้องนี้"),
        ("{n}ถูกหัวหน้างานตี", "{n}ไม่ได้รับเงินเดือนตั้งแต่เดือนมีนาคม"),
        ("ผู้จัดการไล่{n}ออกโดยไม่จ่ายเงิน", "พวกเขาบังคับให้{n}ทำงานวันอาทิตย์"),
        ("เพื่อนร่วมงานของฉัน คุณ{n} เห็นทุกอย่าง", "หัวหน้างานของเราชื่อ{n} ล็อกห้องน้ำ"),
        ("{n}กับ{m}ไม่ได้รับค่าจ้าง",),
        "โทรหาฉันที่ {x} หลังเลิกงาน",
        "อีเมลของฉันคือ {x}",
        "รหัสพนักงานของฉันคือ {x}",
        ("สมชาย", "สมศรี", "มาลี", "ประเสริฐ", "วิชัย", "นภา", "สุดา", "ชัยวัฒน์"),
        ("ใจดี", "สุขสวัสดิ์", "ศรีสุข", "วงศ์ใหญ่", "แก้วมณี", "ทองดี"),
        ("ทองใบ", "บุญเรือน คำแปง", "แสงเดือน", "ประทุม ศรีบุญเรือง", "คำปุ่น", "อำไพ"),
        region="TH",
    ),
    "my": Lang(
        "",
        (
            "ကျွန်မတို့ တစ်နေ့ ၁၂ နာရီ အလုပ်လုပ်ရတယ်။",
            "ကြီးကြပ်ရေးမှူးက မနက်တိုင်း ကျွန်မတို့ကို အော်တယ်။",
            "မတ်လကစပြီး အချိန်ပိုလုပ်ခ မပေးဘူး။",
            "မန်နေဂျာက အရေးပေါ်ထွက်ပေါက်ကို သော့ခတ်ထားတယ်။",
            "တစ်လကို ကျပ် ၂၀၀၀၀၀ ပဲ ရတယ်။",
            "အလုပ်သမားတစ်ယောက် စက်ထဲမှာ လက်ဒဏ်ရာရတယ်။",
            "ရန်ကုန်က ကုမ္ပဏီက ကျွန်မတို့ တိုင်ကြားချက်ကို မဖြေဘူး။",
            "အစောင့်က ညနေတိုင်း ကျွန်မတို့ အိတ်ကို ရှာဖွေတယ်။",
            "စက်ရုံမှာ အမျိုးသမီးအလုပ်သမား ၃၀၀ ရှိတယ်။",
            "လူ့စွမ်းအားဌာနက ဘယ်သူမှ နားမထောင်ဘူး။",
        ),
        ("{n}ပါ၊ ချုပ်ရေးဌာနကပါ။", "{n}ပါ၊ စက်ရုံအလုပ်သမားပါ။"),
        ("{n}ကို ကြီးကြပ်ရေးမှူးက ရိုက်တယ်။", "{n}က မတ်လကစပြီး လစာမရဘူး။"),
        ("မန်နေဂျာက {n}ကို လစာမပေးဘဲ အလုပ်ထုတ်တယ်။", "သူတို့က {n}ကို တနင်္ဂနွေနေ့ အလုပ်ခိုင်းတယ်။"),
        ("ကျွန်မရဲ့ လုပ်ဖော်ကိုင်ဖက် မ{n} အားလုံးမြင်တယ်။", "ကြီးကြပ်ရေးမှူး ဦး{n}က အိမ်သာကို သော့ခတ်တယ်။"),
        ("{n}နဲ့ {m}က လစာမရဘူး။",),
        "အလုပ်ပြီးရင် {x} ကို ဖုန်းဆက်ပါ။",
        "ကျွန်မ အီးမေးလ်က {x} ပါ။",
        "ကျွန်မ ဝန်ထမ်းနံပါတ်က {x} ပါ။",
        ("အောင်ကျော်", "မြင့်မြင့်", "ဇော်ဝင်း", "သီတာ", "ကျော်ကျော်", "နီလာ", "မောင်မောင်", "သန်းသန်း"),
        ("", "", "", "", "", ""),
        ("ခင်မာလှ", "ထွန်းထွန်းနိုင်", "စန္ဒာဝင်း", "ဖိုးသာ", "နန်းခမ်းနွမ်", "ဝင်းမြင့်ဦး"),
        full=lambda g, f: g,
        region="MM",
    ),
    "km": Lang(
        " ",
        (
            "យើងធ្វើការ ១២ ម៉ោងក្នុងមួយថ្ងៃ។",
            "អ្នកគ្រប់គ្រងស្រែកដាក់យើងរៀងរាល់ព្រឹក។",
            "ប្រាក់ថែមម៉ោងមិនបានបើកតាំងពីខែមីនា។",
            "អ្នកចាត់ការចាក់សោទ្វារសង្គ្រោះបន្ទាន់។",
            "យើងទទួលបានប្រាក់ខែ ២០០ ដុល្លារ។",
            "កម្មករម្នាក់របួសដៃដោយសារម៉ាស៊ីន។",
            "ក្រុមហ៊ុននៅភ្នំពេញមិនឆ្លើយបណ្តឹងរបស់យើងទេ។",
            "សន្តិសុខឆែកកាបូបយើងរៀងរាល់ល្ងាច។",
            "រោងចក្រមានកម្មការិនី ៣០០ នាក់។",
            "គ្មាននរណានៅផ្នែកបុគ្គលិកស្តាប់យើងទេ។",
        ),
        ("{n}នេះ មកពីផ្នែកដេរ។", "{n} កម្មកររោងចក្រ សរសេរបណ្តឹងនេះ។"),
        ("{n}ត្រូវអ្នកគ្រប់គ្រងវាយ។", "{n}មិនបានទទួលប្រាក់ខែតាំងពីខែមីនា។"),
        ("អ្នកចាត់ការបណ្តេញ{n}ចេញដោយមិនបើកប្រាក់។", "ពួកគេបង្ខំ{n}ឱ្យធ្វើការថ្ងៃអាទិត្យ។"),
        ("មិត្តរួមការងាររបស់ខ្ញុំ បង{n} ឃើញទាំងអស់។", "អ្នកគ្រប់គ្រងរបស់យើងឈ្មោះ{n} ចាក់សោបង្គន់។"),
        ("{n}និង{m}មិនបានទទួលប្រាក់ខែ។",),
        "សូមទូរស័ព្ទមកខ្ញុំតាមលេខ {x} ក្រោយម៉ោងធ្វើការ។",
        "អ៊ីមែលរបស់ខ្ញុំគឺ {x}។",
        "លេខបុគ្គលិករបស់ខ្ញុំគឺ {x}។",
        ("សុខា", "ដារា", "ចាន់ធី", "សុភា", "វណ្ណៈ", "ស្រីមុំ", "ពិសី", "រតនា"),
        ("សុខ", "ចាន់", "គឹម", "ហេង", "លី", "ម៉ៅ"),
        ("ស្រីនាង", "ប៊ុន ធឿន", "សំបូរ", "ហ៊ុន ស៊ីណាត", "យឹម សុផាត", "ណយ"),
        full=_family_first,
        region="KH",
    ),
    "zh_Hans": Lang(
        "",
        (
            "我们每天工作12小时，从8:00到22:00。",
            "主管每天早上骂我们。",
            "加班费三个月没有发。",
            "经理晚上把安全出口锁上了。",
            "工资2000元，拖欠了三个月。",
            "有一个工人的手被机器压伤了，没有人管。",
            "东莞的公司不回答我们的投诉。",
            "保安每天晚上搜我们的包。",
            "厂里有三百个女工。",
            "人事部没有人听我们说话。",
        ),
        ("{n}，我在缝纫车间做工。", "{n}在这里说一下情况。"),
        ("{n}被主管打了。", "{n}从三月起没有拿到工资。"),
        ("经理把{n}开除了，没有给钱。", "他们逼{n}星期天上班。"),
        ("我的工友{n}都看见了。", "我们的主管{n}把厕所锁上。"),
        ("{n}和{m}没有拿到工资。",),
        "下班后打我电话{x}。",
        "我的邮箱是{x}。",
        "我的工号是{x}。",
        ("小明", "建华", "丽", "志强", "芳", "秀英", "伟", "婷"),
        ("王", "李", "张", "陈", "刘", "杨"),
        ("覃桂兰", "蒙德胜", "龚一帆", "晁红梅", "阮氏香", "仉振宇"),
        full=_zh_full,
        region="CN",
    ),
    "zh_Hant": Lang(
        "",
        (
            "我們每天工作12小時，從8:00到22:00。",
            "主管每天早上罵我們。",
            "加班費三個月沒有發。",
            "經理晚上把安全出口鎖上了。",
            "工資2000元，拖欠了三個月。",
            "有一個工人的手被機器壓傷了，沒有人管。",
            "桃園的公司不回答我們的投訴。",
            "保全每天晚上搜我們的包。",
            "廠裡有三百個女工。",
            "人事部沒有人聽我們說話。",
        ),
        ("{n}，我在縫紉車間做工。", "{n}在這裡說一下情況。"),
        ("{n}被主管打了。", "{n}從三月起沒有拿到工資。"),
        ("經理把{n}開除了，沒有給錢。", "他們逼{n}星期天上班。"),
        ("我的工友{n}都看見了。", "我們的主管{n}把廁所鎖上。"),
        ("{n}和{m}沒有拿到工資。",),
        "下班後打我電話{x}。",
        "我的信箱是{x}。",
        "我的工號是{x}。",
        ("志明", "美玲", "淑芬", "家豪", "雅婷", "俊傑", "怡君", "建宏"),
        ("陳", "林", "黃", "張", "李", "王"),
        ("鍾瑋琪", "詹宗翰", "游雅筑", "簡佩珊", "阮氏梅", "溫筱涵"),
        full=_zh_full,
        region="TW",
    ),
}


@dataclass
class Story:
    """One narrative and where its identifiers are: ``(start, end, kind, pool)``; pool is ``common``
    or ``rare`` for names, the kind itself otherwise."""

    lang: str
    text: str
    spans: list[tuple[int, int, str, str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # every name written into the text


def _name(rng: random.Random, lang: str) -> tuple[str, str]:
    """A name of ``lang`` and its pool: a given name, a family name with a given name, or a rare one."""
    spec = L[lang]
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(spec.rare), "rare"
    given = rng.choice(spec.given)
    family = rng.choice(spec.family)
    if roll < 0.65 or not family:
        if lang.startswith("zh") and len(given) == 1:
            return family + given, "common"  # a one-character given name is never used alone
        return given, "common"
    return spec.full(given, family), "common"


def _phone(rng: random.Random, region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    nsn = str(example.national_number)
    number = phonenumbers.parse(f"+{example.country_code}{nsn[:-3]}{rng.randrange(1000):03d}", None)
    if not phonenumbers.is_valid_number(number):
        number = example
    fmt = rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL])
    return phonenumbers.format_number(number, fmt)


def _email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(rng.randint(4, 8)))
    return f"{local}{rng.randrange(10, 99)}@{rng.choice(['gmail.com', 'yahoo.com', 'qq.com', 'outlook.com'])}"


def story(rng: random.Random, lang: str, *, target: int = 600) -> Story:
    """A narrative of about ``target`` characters in ``lang``.

    Half the stories open with a name; every story has names in other positions, fillers between
    them, and a phone, an e-mail or a badge number now and then.
    """
    spec = L[lang]
    sep = spec.sep
    parts: list[tuple[str, list[tuple[str, str, str]]]] = []  # sentence template, its slot values

    def slot(template: str) -> None:
        values: list[tuple[str, str, str]] = []
        for key in re.findall(r"\{(\w)\}", template):
            if key in "nm":
                name, pool = _name(rng, lang)
                values.append((key, name, pool))
            elif key == "x":
                kind = template_kind[template]
                value = {
                    "phone": lambda: _phone(rng, spec.region),
                    "email": lambda: _email(rng),
                    "worker_id": lambda: f"{rng.choice(['', 'A-', 'GZ'])}{rng.randrange(100, 99999)}",
                }[kind]()
                values.append((key, value, kind))
        parts.append((template, values))

    template_kind = {spec.phone: "phone", spec.email: "email", spec.badge: "worker_id"}
    opens = rng.random() < 0.5
    if opens:
        slot(rng.choice(spec.opening))
    length = 0
    while length < target:
        roll = rng.random()
        if roll < 0.45:
            template = rng.choice(spec.fillers)
        elif roll < 0.9:
            template = rng.choice(rng.choice([spec.subject, spec.obj, spec.cue, spec.pair]))
        else:
            template = rng.choice([spec.phone, spec.email, spec.badge])
        slot(template)
        length += len(template) + 8
    if not opens and rng.random() < 0.3:
        parts.insert(0, (rng.choice(spec.opening), []))
        values: list[tuple[str, str, str]] = []
        name, pool = _name(rng, lang)
        values.append(("n", name, pool))
        parts[0] = (parts[0][0], values)

    out = Story(lang, "")
    chunks: list[str] = []
    pos = 0
    for i, (template, values) in enumerate(parts):
        if i:
            chunks.append(sep)
            pos += len(sep)
        cursor = 0
        lookup = dict((k, (v, p)) for k, v, p in values)
        for m in re.finditer(r"\{(\w)\}", template):
            literal = template[cursor : m.start()]
            chunks.append(literal)
            pos += len(literal)
            value, pool = lookup[m.group(1)]
            kind = "name" if m.group(1) in "nm" else pool
            chunks.append(value)
            out.spans.append((pos, pos + len(value), kind, pool))
            if kind == "name":
                out.names.append(value)
            pos += len(value)
            cursor = m.end()
        chunks.append(template[cursor:])
        pos += len(template) - cursor
    out.text = "".join(chunks)
    return out


def corpus(seed: int, per_lang: int, *, target: int = 600, langs: Iterable[str] = LANGS) -> list[Story]:
    rng = random.Random(seed)
    return [story(rng, lang, target=target) for lang in langs for _ in range(per_lang)]


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Recall on identifiers (all, names from each pool) and over-redaction of everything else."""

    found: int = 0
    total: int = 0
    found_by: dict[str, list[int]] = field(default_factory=dict)  # pool or kind -> [found, total]
    other_removed: int = 0  # words (characters where unspaced) outside identifiers that were removed
    other_total: int = 0
    missed: list[str] = field(default_factory=list)
    over: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0

    @property
    def over_redaction(self) -> float:
        return self.other_removed / self.other_total if self.other_total else 0.0

    def pool(self, name: str) -> float:
        f, t = self.found_by.get(name, [0, 0])
        return f / t if t else float("nan")


# A word: a run of anything but spaces and punctuation (so Indic vowel signs stay in their word).
_UNIT = re.compile(r"[^\s!-/:-@\[-`{-~\u0964\u0965\u06d4\u060c\u061f、，。！？：；“”‘’«»…—–]+")


def listed(name: str) -> bool:
    """Whether every word of ``name`` is in the shipped names list (``relay/namedata.txt.gz``)."""
    from relay import namefind

    lex = namefind.lexicon()
    han = lex.get("han", {})
    for word in name.split():
        if re.match("[\u4e00-\u9fff]", word):
            if word[1:] not in han and word[-2:] not in han:
                return False
            continue
        if not any(namefind.folded(word) in section for section in lex.values()):
            return False
    return True


def measure(
    stories: Iterable[Story],
    removals_of: Callable[[str], Iterable[tuple[int, int]]],
    *,
    by_list: bool = False,
) -> dict[str, Figures]:
    """Figures per language; ``removals_of(text)`` gives the removed spans of a text. With
    ``by_list`` names are counted as ``listed`` or ``unlisted`` (in the shipped list or not)
    rather than ``common`` or ``rare``."""
    out: dict[str, Figures] = {}
    for s in stories:
        fig = out.setdefault(s.lang, Figures())
        removed = [False] * (len(s.text) + 1)
        for a, b in removals_of(s.text):
            for i in range(a, b):
                removed[i] = True
        inside = [False] * (len(s.text) + 1)
        for a, b, kind, pool in s.spans:
            ok = all(removed[a:b])
            fig.total += 1
            fig.found += ok
            key = pool if kind == "name" else kind
            if kind == "name" and by_list:
                key = "listed" if listed(s.text[a:b]) else "unlisted"
            counts = fig.found_by.setdefault(key, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                fig.missed.append(f"{s.text[max(0, a - 12) : a]}⟦{s.text[a:b]}⟧{s.text[b : b + 12]}")
            for i in range(a, b):
                inside[i] = True
        if s.lang in UNSPACED:
            for i, c in enumerate(s.text):
                if inside[i] or not c.isalnum():
                    continue
                fig.other_total += 1
                if removed[i]:
                    fig.other_removed += 1
                    fig.over.append(s.text[max(0, i - 6) : i + 6])
        else:
            for m in _UNIT.finditer(s.text):
                if not m.group()[0].isalnum() or any(inside[m.start() : m.end()]):
                    continue
                fig.other_total += 1
                if any(removed[m.start() : m.end()]):
                    fig.other_removed += 1
                    fig.over.append(m.group())
    return out
