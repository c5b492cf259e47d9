"""Urgent words in the Latin and Cyrillic scripts: en es fr pl cs uk id ms fil sw vi (issue 12, item 9).

Every language names every kind of urgent report in KINDS. The text is folded before matching: NFKD,
combining marks dropped, casefolded, native digits made ASCII. So "zamčený", "zamceny" and
"ZAMČENÝ" read alike, and the patterns below are written in lower case without diacritics (the
Ukrainian ones keep their letters; they are folded the same way when compiled). A "~" in a pattern
stands for up to 50 characters inside one sentence ("fire exit ~ locked"). `rules` must start a
word and may end anywhere, so a stem takes every ending; `exact` is found anywhere, also inside a
word (Swahili verbs carry their prefixes). Each ordinary report in the tests runs against every
language's rules, so a loose stem shows up there as a false alarm.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = (
    "exit",  # a locked or blocked fire exit
    "hazard",  # fire, explosion, collapse, toxic gas
    "injury",  # amputation, crushing, burns, fainting, poisoning
    "death",  # death or suicide
    "passports",  # passports or ID documents kept by the employer or the agency
    "child",  # child workers
    "beating",
    "sexual",  # sexual assault or harassment
    "threat",  # threats, above all after a complaint
    "confined",  # locked in, not allowed to leave
    "closure",  # the owner fled, the factory closed without pay
)


@dataclass(frozen=True)
class Lang:
    """One language's urgent patterns by kind (a regular expression with alternatives)."""

    code: str
    rules: Mapping[str, str]
    exact: Mapping[str, str] = field(default_factory=dict)


# Digits of the scripts we ship, made ASCII so "१४ वर्ष" and "14 वर्ष" read alike.
_ZEROS = (0x660, 0x6F0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xE50, 0xED0)
DIGITS: dict[int, str] = {
    zero + i: str(i) for zero in (*_ZEROS, 0x1040, 0x1090, 0x17E0, 0x19D0, 0xFF10) for i in range(10)
}
_LETTERS = {"đ": "d", "ł": "l", "ø": "o", "ħ": "h", "ı": "i", "’": "'", "ʼ": "'"}  # no NFKD decomposition
_LATIN_EXTRA = str.maketrans({**DIGITS, **{ord(c): v for c, v in _LETTERS.items()}})
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold_latin(text: str) -> str:
    """NFKD, combining marks dropped, casefolded: how the Latin and Cyrillic patterns read a text."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold())).translate(_LATIN_EXTRA)


def fold_latin_pattern(pattern: str) -> str:
    """The same fold for a pattern, which is lower case already (casefolding would turn \\W into \\w)."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", pattern)).translate(_LATIN_EXTRA)


WORD_START = r"\b"
WINDOW = r"[^.!?;\n]{0,50}"  # what "~" stands for: up to 50 characters inside one sentence


AGE = r"(1[0-5]|[5-9])"  # a child's age in years

EN = Lang(
    "en",
    rules={
        "exit": r"(fire|emergency) (exit|door|escape|stair)s?~(lock|block|chain|padlock|bolt|weld|seal|obstruct"
        r"|barricad|nailed|shut)|(lock|block|chain|padlock|bolt|weld|seal|barricad)\w*~(fire|emergency) "
        r"(exit|door|escape)|no (fire|emergency) exit",
        "hazard": r"(caught|on) fire\b|fire (broke|breaks|started|spread)|(a|big|huge|the|factory|warehouse) fire\b"
        r"(?! (exit|door|drill|extinguisher|alarm|escape|safety|training|hose|code|inspect|stair|department))"
        r"|blaze|explo(sion|ded|des)|blast\b|collaps|gas leak|leak\w* gas|toxic (gas|fume|smoke|chemical)",
        "injury": r"injur|amputat|crush|burn(s|ed|t)\b|scald|faint(ed|s|ing)\b|passed out|unconscious|poison|electrocut"
        r"|bleed|fractur|broke (his|her|my|their|a) (arm|leg|hand|finger|back|neck)|lost (\w+ )?(finger|hand"
        r"|arm|leg|eye)|(cut|chopped|sliced|torn|ripped) off (\w+ ){0,3}(finger|thumb|hand|arm|leg)"
        r"|(finger|thumb|hand|arm|leg)s? (was |were )?(cut|chopped|sliced|torn|ripped) off|sever(ed|ing)\b"
        r"|(was|were|got|badly|seriously) hurt"
        r"|(an|the|serious|work|industrial) accident",
        "death": r"died|dies\b|dead\b|death|deadly|killed|kill (him|her|them)sel|suicid|fatal|passed away"
        r"|took (his|her|their) own life|drowned",
        "passports": r"(keep|kept|hold|held|tak|took|withh[eo]ld|confiscat|seiz|retain|lock\w* up|refus\w* to "
        r"(return|give)|won'?t (return|give)|not (return|give))\w*~(passport|identity (card|document|paper)"
        r"|id cards?|work permit|visa)|(kept|took|taken|hold|held|withh[eo]ld|confiscat|seiz)\w* (our|my|their"
        r"|all|the) (documents|papers)|(passport|identity card|id card|work permit)s?~(kept|held|taken"
        r"|confiscat|seized|retained|withheld|locked|not returned|never returned)",
        "child": rf"child(ren)? (labou?r|workers?)|(children|kids|minors) (are |who are )?(working|work|employed"
        rf"|sewing|packing)|employ\w* (children|kids|minors)|under-?age|under age|minors\b|{AGE}[- ]years?[- ]old"
        rf"|aged {AGE}\b",
        "beating": r"beat(s|en|ing)?\b|(hit|punch\w*|kick\w*|slap\w*|struck) (him|her|them|us|me|a|the|my|our)"
        r"\b|slapped|assault|attack|whip|thrash",
        "sexual": r"sexual|rape|raped|raping|grop|molest|fondl|harass|indecent|touch(es|ed|ing)? (me|her|us|them"
        r"|women|girls)~(breast|body|bottom|without)|sleep with (him|the)",
        "threat": r"threat|menac|intimidat|retaliat|revenge|blacklist|will (kill|hurt|beat|deport)|deport (us|me"
        r"|them|anyone)",
        "confined": r"locked (us |them |me |the workers |workers )?(in|inside)\b|lock (us|them|me|workers) (in|up)"
        r"|(cannot|can't|can not|not allowed to|forbidden to|don't let us|do not let us|won't let us) (leave"
        r"|go out|go home|get out)|trapped|imprisoned|held captive|confined",
        "closure": r"(owner|boss|employer|manager)s?~(ran away|ran off|fled|disappeared|vanished|abscond|escaped)"
        r"|abscond|(closed|shut)\w*( down)?~(without|no|not|never)~(pay|wage|salar|severance)|bankrupt",
    },
)

ES = Lang(
    "es",
    rules={
        "exit": r"(salida|puerta)s? de (emergencia|incendio|socorro|escape)~(cerrad|bloquead|tapad|con candado"
        r"|con llave|con cadena|obstruid|clausurad)|(cerra|bloquea|tapa|clausura)\w*~(salida|puerta)s? de "
        r"(emergencia|incendio)|sin salida de emergencia",
        "hazard": r"incendi|fuego|explosi|explot|derrumb|colaps|se (cayo|vino abajo) el (techo|edificio)"
        r"|fuga de gas|(gas|humo|vapor|vapores|sustancias?|quimicos?) toxic",
        "injury": r"herid|lesion|accidente|amputa|aplast|quemad|desmay|intoxica|envenena|electrocut|fractur"
        r"|se (rompio|quebro|fracturo) (el|la) (brazo|pierna|mano|pie|dedo|espalda)"
        r"|(corto|corta|cortaron|perdio|arranco|amputo|aplasto)~dedo|sangr"
        r"|inconscient|mutila",
        "death": r"muri(o|eron|endo)|muert[oa]s?\b|muerte|fallec|suicid|se mato|perdio la vida|sin vida|mataron",
        "passports": r"(quit|retien|retuv|reten|guard|confisc|decomis|se qued\w* con|tien(e|en) (nuestros|mis|sus"
        r"|los)|no (nos |me |les |los )*(devuelv|regres|entreg))\w*~(pasaporte|documentos|papeles|cedula|dni"
        r"|identificacion|permiso de trabajo)|(pasaporte|cedula|documentos de identidad)s?~(retenid|confiscad"
        r"|quitad|guardad|decomisad)",
        "child": rf"trabajo infantil|menores? de edad|(trabajan|emplean|contratan|hay) (\w+ )?(nin[oa]s|menores"
        rf"|adolescentes)|(nin[oa]s|menores|adolescentes) (\w+ )?(trabajan|trabajando|empleados|contratados)"
        rf"|(de|con|tiene|tienen) {AGE} anos\b",
        "beating": r"golpe(o|aron|a|an|ado|ada|ados|adas|ar)\b|golpiz|pate(o|aron|ado|an)\b|(le|les|nos|me) "
        r"peg(o|aron|an|a)\b|abofete|cachetad|bofetad|agredi|agresion",
        "sexual": r"acoso sexual|hostigamiento sexual|acos(a|o|aba|an|aron)\b|abuso sexual|violad[ao]|violaron"
        r"|me violo|la violo|manose|toquete|tocamientos",
        "threat": r"amenaz|intimid|represali|(van|iba|iban) a (matar|golpear|pegar|deportar)|lista negra",
        "confined": r"encerr|encierr|no (nos |me |les )?(dejan|permiten|deja|permite|dejaron) (salir|irnos|ir )"
        r"|atrapad|secuestr",
        "closure": r"(dueno|patron|jefe|empresario|propietario|gerente)s?~(huyo|huyeron|escapo|se fue|se fueron"
        r"|desaparec|se escondio|abandono|se dio a la fuga)|(cerr|clausur|abandon)\w*~sin (pagar|pago|liquid"
        r"|indemniz)|quiebra",
    },
)

FR = Lang(
    "fr",
    rules={
        "exit": r"(sortie|porte|issue)s? de secours~(ferm|verrouill|bloqu|condamn|encombr|cadenass|obstru|barr)"
        r"|(ferm|verrouill|bloqu|condamn|cadenass)\w*~(sortie|porte|issue)s? de secours|pas de sortie de secours",
        "hazard": r"incendi|(prend|pris|en) feu\b|feu (s'est declare|a pris)|explos|effondr|ecroul|fuite de gaz"
        r"|(gaz|fumees?|produits?|vapeurs?) toxique",
        "injury": r"bless(e|ee|es|ees|ure|ures)\b|(un|l'|d'|grave) accident|ampute|amputation|ecras|brul"
        r"|evanoui|(fait|eu|faire) un malaise|intoxiqu|empoisonn|electrocut|fractur|perdu (\w+ )?doigt"
        r"|doigts? (coupe|arrache|sectionne)|(coupe|arrache|sectionne)\w*~doigt|saign|inconscient|mutil",
        "death": r"mort(e|s|es)?\b|deced|deces|(a|ont|ete|fut) tue|suicid|noye|perdu la vie|a succombe",
        "passports": r"(garde|confisqu|retien|retenu|pris|prend|saisi|gard|conserv|refus\w* de (rendre|restituer)"
        r"|ne (veut|veulent) pas (les |nous les )?rendre)\w*~(passeport|papiers|piece d'identite|carte d'identite"
        r"|titre de sejour|permis de travail)|(passeport|piece d'identite|titre de sejour)s?~(confisqu|garde"
        r"|retenu|pris|saisi)",
        "child": rf"travail des enfants|enfants? (de|d'|age\w* de) ?{AGE} ans|(travaillent|emploie|emploient"
        rf"|embauche\w*|il y a) (des |les )?(enfants|gamins|fillettes)|(enfants|gamins|fillettes) (\w+ )?"
        rf"(travaillent|employes)|(a|ont|d'a peine) {AGE} ans",
        "beating": r"frapp|battu|roue de coups|coups? de (poing|pied|baton|ceinture)|gifl|tabass"
        r"|agress(e|ee|es|ees|er|ion)\b",
        "sexual": r"harcel|attouchement|viol\b|violee|(a|ont) viole (une|des|ma|sa|la|les)|agression sexuelle"
        r"|tripot|pelot(e|er|ait|ent|ee)\b|main aux fesses|abus sexuel",
        "threat": r"menac|intimid|represaill|chantag|(va|vont|allait) nous (tuer|frapper|expulser|renvoyer)",
        "confined": r"enferm|sequestr|(laisse|laissent|permet|permettent) pas sortir|interdit de sortir"
        r"|pas le droit de (sortir|partir)|(peut|peuvent|pouvons) pas (sortir|partir)|pieg",
        "closure": r"(patron|proprietaire|employeur|directeur|gerant)s?~(enfui|fui|disparu|sauve|parti sans"
        r"|abandonn)|ferm\w*~sans (payer|paie|salaire|nous payer|indemn)|faillite|liquidation judiciaire"
        r"|la cle sous la porte",
    },
)

PL = Lang(
    "pl",
    rules={
        "exit": r"(wyjsci|drzwi)\w* (ewakuacyjn|awaryjn|przeciwpozarow)\w*~(zamkniet|zablokowan|zastawion"
        r"|zakluczon|na klodke|zaspawan|zaryglowan|zatarasowan|zamykan)|(zamkn|zablokow|zastaw|zamyka)\w*~"
        r"(wyjsci|drzwi)\w* (ewakuacyjn|awaryjn)|brak wyjscia ewakuacyjnego",
        "hazard": r"pozar|plonie|plonal|splon|ogien|ognia|wybuch|eksploz|zawal(il|ila|ilo|ily|enie)|runal|runel"
        r"|wyciek gazu|ulatnia sie gaz|(trujac|toksyczn)\w* (gaz|opar|dym|substanc)",
        "injury": r"rann[ayi]\b|ranil|obrazen|zmiazdz|amputow|amputac|stracil\w* (\w+ )?(palc|reke|dlon|oko|noge)"
        r"|(obcie|odcie|urwa)\w*~palc|(palce|palec|dlon|reke|reka)~(obciet|odciet|zmiazdz|urwal)|poparz"
        r"|oparzen|zemdl|omdl|stracil\w* przytomn|nieprzytomn|zatru|porazen\w* pradem|porazil|zlaman|krwaw"
        r"|wypadk\w* przy pracy|mial\w* wypadek|ulegl\w* wypadk|(ciezki|powazny|smiertelny) wypadek",
        "death": r"zgin(al|ela|eli|ely|elo|ie)\b|zmarl|umarl|umiera|nie zyj|smierc|smiertel|zabit|zabil|samoboj"
        r"|powiesil",
        "passports": r"(zabral|zabier|zatrzym|przetrzym|trzyma|odebral|odebra|skonfisk|przejel|przejmuj|nie oddaj"
        r"|nie chc\w* oddac|zabrano|zatrzymano|schowal)\w*~(paszport|dowod|dokument|karte pobytu|pozwoleni)"
        r"|(paszport|dowod\w* osobist)\w*~(zabran|zatrzyman|przetrzymyw|skonfiskowan|odebran)",
        "child": rf"praca dzieci|pracuja dzieci|dzieci pracuja|zatrudnia\w* dzieci|nieletni|niepelnoletni"
        rf"|(maja|ma|majace|w wieku) {AGE} lat\b|{AGE}[- ]?(letni|latk)",
        "beating": r"pobil|pobic|pobity|pobici|bije (nas|ich|go|ja|pracownik)|bil (go|ja|nas|mnie|ich)|uderzy"
        r"|spoliczk|kopn|szarpal|przemoc fizyczn",
        "sexual": r"molest|napastow|gwalt(u|em|y)?\b|zgwalc|obmacuj|obmacyw|dotyka\w* (nas|mnie|ja|dziewczyn"
        r"|pracownic)|seksualn",
        "threat": r"grozil|grozi (nam|mi|ze)|zastrasz|odwet|szantaz",
        "confined": r"zamkn\w* nas|zamyka\w* nas|uwiez|nie (wolno|pozwalaj\w*|pozwala) nam (wychodzic|wyjsc"
        r"|opuszczac|wyjezdzac)|nie mozemy (wyjsc|wychodzic|opuszczac)|przetrzymuj\w* nas",
        "closure": r"(wlasciciel|szef|pracodawca|prezes)\w*~(uciekl|zniknal|zbiegl|ulotnil|porzucil|wyjechal bez)"
        r"|(zamkn|zlikwid)\w*~bez (wyplat|zaplat|placenia|pieniedzy|wynagrodz)|upadlosc|bankrut",
    },
)

CS = Lang(
    "cs",
    rules={
        "exit": r"(nouzov|unikov|pozarn)\w* (vychod|dver|cest)\w*~(zamcen|zamkl|zablokovan|zatarasen|zavren"
        r"|na retez|na zamek|zamykaj)|(zamk|zamyk|zablok|zataras)\w*~(nouzov|unikov)\w* (vychod|dver)",
        "hazard": r"pozar|hori\b|horelo|shorel|vyhorel|ohen|vybuch|exploz|zricen|zritil|zhroutil|propadl\w* strop"
        r"|unik plynu|unika plyn|(jedovat|toxick)\w* (plyn|vypar|latk)",
        "injury": r"zranen|zranil|uraz(u|y|em|ech)?\b|rozdrtil|rozdrcen|rozmackl|amputov|amputac|prisel o (\w+ )?"
        r"(prst|ruku|nohu|oko)|(useklo|useknut|utrhl|urizl)\w*~(prst|ruk)|popalen|popalil|oparil|oparen"
        r"|omdlel|ztratil\w* vedomi|bezvedomi|otrav|zasazen\w* proudem|zlomen|zlomil|krvac",
        "death": r"zemrel|zemre|umrel|zahynul|mrtv|smrt\b|smrti|smrtel|zabit|zabil|sebevrazd|obesil",
        "passports": r"(vzal|vzala|vzali|zabavil|zabaven|zadrz|drzi|drzeli|zabral|sebral|schoval|nevrat|nechce"
        r"\w* vratit|odebral|zabavuj)\w*~(pasy|pas|pasu|doklad|obcank|obcansk|povoleni k pobytu"
        r"|pracovni povoleni)\b|(pasy|doklady|obcanky)~(zabaven|zadrzen|odebran)",
        "child": rf"detsk\w* prac|pracuji deti|deti pracuji|zamestnava\w* deti|nezletil|mladistv|(je|jim je|je jim"
        rf"|ve veku|maji) (teprve |jen |pouze )?{AGE} let\b|{AGE}[- ]?let(y|e|a)\b",
        "beating": r"zbil|zmlatil|bije (nas|je|ho|delnik)|bil (nas|me|ho|ji)\b|uderil|uhodil|nakopal|kopl|facka"
        r"|fackoval|napadl (nas|me|ho|ji|kolegu|delnik)|fyzick\w* napad",
        "sexual": r"osahav|osahal|obtezov|sexualn|znasil|zneuzil|zneuziv|ohmatav|saha (na|mi|jim)",
        "threat": r"vyhroz|vyhruz|hrozil|zastras|odplat|pomst|vydir",
        "confined": r"zamkl\w* nas|zamyka\w* nas|zavrel\w* nas|zavira\w* nas|nesmime (odejit|ven|odchazet"
        r"|opustit)|nepusti nas|nepoust\w* (nas|ven)|uvezn",
        "closure": r"(majitel|sef|zamestnavatel|reditel)\w*~(utekl|zmizel|uprchl|zdrhl|odjel bez)|(zavrel|zavren"
        r"|zrusil)\w*~bez (vyplat|zaplac|penez|mzdy)|insolvenc|bankrot|zkrachov",
    },
)

UK = Lang(
    "uk",
    rules={
        "exit": r"(аварійн|запасн|евакуаційн|пожежн)\w* (вихід|виход|двер)\w*~(зачинен|замкнен|заблокован|закрит"
        r"|на замок|на ланцюг|захаращ|забит)|(зачин|замкн|заблок|закрив|закрит)\w*~(аварійн|запасн|евакуаційн)\w*"
        r" (вихід|виход|двер)",
        "hazard": r"пожеж(а|і|у|ею)\b|пожар|горить|горів|згорів|загорі|вогонь|вибух|взрыв|обвал|обруш|витік\w* газ"
        r"|утечка газа|(отруйн|токсичн)\w* (газ|пар|дим|речовин)",
        "injury": r"травм|поранен|поранив|розчав|роздав|ампут|відріза|відірва|відруба|втратив (\w+ )?пал"
        r"|опік(и|ів|у|ом)?\b"
        r"|обпік|обпекл|знепритомн|втратив свідом|без свідомост|отру|ураж\w* струм|перелом|злам(ав|ала|ано)"
        r"|кровотеч|нещасн\w* випадок",
        "death": r"загинув|загинул|загибел|помер|смерт|вбив|вбит|убив|убит|самогуб|повісив|погиб|умер|мертв",
        "passports": r"(забра|відібра|трима|утриму|конфіску|вилуч|не (віддає|віддають|повертає|повертають|віддали"
        r"|повернули)|забир|відбира|держат|отобра|изъял)\w*~(паспорт|документ|посвідк)|(паспорт|документ|посвідк)"
        r"\w*~(забрал|відібрал|вилучен|конфіскован|утриму)",
        "child": rf"дитяч\w* прац|(працюють|працює) (\w+ )?діти|діти (\w+ )?працюють|неповнолітн|несовершеннолет"
        rf"|малолітн|(лише|тільки|всього|вік|віком) {AGE} (рок|літ)|{AGE}[- ]?річн",
        "beating": r"побив|побил|побит|побої|побиття|б'є|бив\b|била\b|били\b|вдарив|вдарил|ударив|ударил|штовх"
        r"|ляпас|избил|избиен|бьет",
        "sexual": r"сексуальн|домага|чіпля|лапа(є|ють|в|ли)\b|мацав|мацає|ґвалт|зґвалт|згвалт|изнасил|пристава"
        r"|розбещ",
        "threat": r"погрож|погроз|залякув|помст|шантаж|угрожа|угроз|запугив",
        "confined": r"(замикають|замкнули|зачиняють|зачинили|закривають|закрили) (нас|їх|робітник)|не (випускають"
        r"|пускають|відпускають|дозволяють) (нам )?(виходит|вийти|піти|поїхат|додому)|не можемо (вийти|піти"
        r"|виїхати)|запирают|не выпускают",
        "closure": r"(власник|хазяїн|хозяин|директор|роботодав|бос)\w*~(втік|зник|утік|сховав|поїхав без|исчез"
        r"|сбежал)|(закрил|закрит|закрив|ліквід)\w*~без (виплат|оплат|зарплат|грошей)|банкрут",
    },
)

ID = Lang(
    "id",
    rules={
        "exit": r"pintu (darurat|keluar darurat|evakuasi|kecemasan|keselamatan)~(dikunci|terkunci|berkunci"
        r"|digembok|diblokir|dihalangi|ditutup|dirantai|dilas|dimangga)|(dikunci|digembok|diblokir|dirantai)~pintu "
        r"(darurat|evakuasi|kecemasan)|(tidak ada|tanpa|tiada) pintu (darurat|kecemasan)",
        "hazard": r"kebakaran|terbakar|dibakar|ledakan|meledak|letupan|meletup|runtuh|ambruk|roboh|bocor\w* gas"
        r"|gas bocor|kebocoran gas|(gas|asap|bahan kimia|uap|wap) beracun",
        "injury": r"terluka|luka (parah|bakar|berat|serius)|melukai|cedera|kecelakaan|kemalangan|terjepit|tersepit"
        r"|tergilas|tertimpa|jari\w*~(putus|terpotong|hancur|remuk)|(putus|terpotong|kehilangan)~jari|amputasi"
        r"|diamputasi|pingsan|pengsan|tidak sadar|keracunan|kesetrum|tersengat listrik|renjatan elektrik"
        r"|patah (tulang|tangan|kaki)|berdarah|melecur",
        "death": r"meninggal|tewas|wafat|maut\b|bunuh diri|gantung diri|kehilangan nyawa|terbunuh|dibunuh|membunuh"
        r"|(pekerja|buruh|orang|teman|kawan|rakan|anak|seorang|telah|sudah|hampir|nyaris) mati\b"
        r"|mati (tertimpa|terjatuh|jatuh|terbakar|lemas|dibunuh|kerana|karena|akibat|di tempat)",
        "passports": r"(menahan|ditahan|menyita|disita|mengambil|diambil|menyimpan|disimpan|memegang|dipegang"
        r"|merampas|dirampas|tidak (mau )?(dikembalikan|mengembalikan|dipulangkan|memulangkan|pulangkan))~"
        r"(paspor|pasport|kartu identitas|ktp\b|permit kerja)|(paspor|pasport)\w*~(ditahan|disita|diambil"
        r"|disimpan|dipegang|dirampas|tidak dikembalikan)",
        "child": rf"pekerja anak|buruh anak|mempekerjakan anak|(anak-anak|anak kecil|budak)( \w+)? (yang )?"
        rf"(bekerja|dipekerjakan)|(di )?bawah umur|(umur|usia|berumur|berusia) {AGE} tahun",
        "beating": r"memukul|dipukul|pukul (dia|saya|kami|mereka|pekerja)|menampar|ditampar|menendang|ditendang"
        r"|dihajar|menghajar|dianiaya|menganiaya|penganiayaan|kekerasan fisik|dibelasah|membelasah",
        "sexual": r"pelecehan|dilecehkan|melecehkan|meraba|diraba|cabul|mencabul|dicabul|pencabulan|pemerkosaan"
        r"|diperkosa|memperkosa|rogol|dirogol|merogol|gangguan seksual|seksual",
        "threat": r"mengancam|diancam|ancaman|mengugut|diugut|ugutan|intimidasi|mengintimidasi|balas dendam",
        "confined": r"dikurung|mengurung|terkurung|dikunci di dalam|kami dikunci|tidak (boleh|diizinkan|dibolehkan"
        r"|dibenarkan) (keluar|pulang|pergi|meninggalkan)|dilarang (keluar|pulang|meninggalkan)",
        "closure": r"(bos|majikan|pemilik|pengusaha|tauke|towkay)\w*~(kabur|melarikan diri|lari|menghilang|lenyap"
        r"|ghaib)|(tutup|ditutup)~(tanpa|belum|tidak) (bayar|membayar|dibayar|gaji|pesangon)|bangkrut|muflis",
    },
)
MS = Lang("ms", rules=ID.rules)  # Malay and Indonesian share one set of rules holding the words of both.

FIL = Lang(
    "fil",
    rules={
        "exit": r"(fire|emergency) exit~(naka-?padlock|naka-?kandado|nakakandado|nakasara|sarado|naka-?lock"
        r"|ni-?lock|kinandado|nakaharang|hinarangan)|(naka-?padlock|naka-?kandado|nakakandado|nakasara|naka-?lock"
        r"|ni-?lock|kinandado|nakaharang)~((fire|emergency) exit|labasan)",
        "hazard": r"sunog|nasunog|nagliyab|pagsabog|sumabog|gumuho|bumagsak ang (bubong|kisame|gusali|pader)"
        r"|tagas ng gas|tumagas ang gas|nakalalason|nakakalason",
        "injury": r"naipit|nadurog|naputol|napinsala|nasugatan|sugat|nasaktan|napaso|nahimatay|hinimatay"
        r"|nawalan ng malay|nalason|nakuryente|nabalian|aksidente|naaksidente|dumudugo|pinutol",
        "death": r"namatay|nasawi|patay na|pumanaw|nagpakamatay|napatay|binawian ng buhay|ikinamatay"
        r"|pinatay (si|ang|nila)",
        "passports": r"(kinuha|kinukuha|kukunin|hawak|hinahawakan|itinago|tinago|kinumpiska|kinompiska|ayaw "
        r"(ibalik|isauli)|hindi (ibinabalik|ibinalik|isinasauli))~(pasaporte|passport|id\b|dokumento)"
        r"|(pasaporte|passport)~(kinuha|hawak|kinumpiska|itinago)",
        "child": rf"batang (manggagawa|trabahador)|(mga )?bata(ng)? (\w+ ){{0,3}}(nagtatrabaho|pinagtatrabaho)"
        rf"|menor de edad|{AGE}( na)? taong? gulang",
        "beating": r"sinuntok|sinusuntok|sinampal|sinasampal|binugbog|binubugbog|sinipa|sinisipa|hinampas|pinalo"
        r"|pinapalo|sinaktan|sinasaktan|pananakit",
        "sexual": r"hinihipuan|hinipuan|hinahipuan|hipuan|binastos|binabastos|ginahasa|hinalay|panggagahasa"
        r"|manyak|minamanyak|hinawakan ang (dibdib|puwet|maselang)",
        "threat": r"binantaan|binabantaan|pinagbantaan|nagbanta|banta\b|tinakot|tinatakot|pananakot",
        "confined": r"ikinulong|kinulong|ikinukulong|nakakulong|(pinapayagan|pinayagan)g? (na )?(lumabas|umalis"
        r"|makalabas|makaalis|umuwi)|hindi (kami |sila |ako )?(pinalalabas|pinapalabas|makalabas|makaalis)"
        r"|bawal (lumabas|umalis)",
        "closure": r"(may-?ari|amo|boss|employer)~(tumakas|nawala|naglaho|tumakbo)|(nagsara|isinara)~(walang|hindi)"
        r" (bayad|binayaran|sahod|sweldo)|bangkarote|nalugi",
    },
)

# Swahili verbs carry their subject, tense and object as prefixes (a-li-m-piga, "he beat him"), so
# several stems are looked for anywhere in a word (`exact`). "kupiga simu" is a phone call, and
# "maji ya moto" is hot water: neither is urgent.
SW = Lang(
    "sw",
    rules={
        "exit": r"(mlango|milango) (wa|ya) (dharura|kutokea|kuepuka moto)~(umefungwa|imefungwa|kufuli|umezibwa"
        r"|hufungwa|unafungwa|imezibwa)|(wamefunga|wanafunga|hufunga|walifunga|amefunga)~(mlango|milango) "
        r"(wa|ya) (dharura|kutokea)",
        "hazard": r"moto (ulizuka|umezuka|ulitokea|mkubwa|uliwaka|uliteketeza)|kuungua|kiliungua|iliungua"
        r"|imeungua|kuteketea|mlipuko|jengo (liliporomoka|lilianguka)|kuvuja kwa gesi|gesi (ya sumu|inavuja"
        r"|ilivuja)|(kemikali|moshi) (za|ya|wa) sumu",
        "injury": r"(ali|ame|wali|wame|ku|a|wa|ni|tu)umia\b|ajali|sumu\b|kupoteza fahamu|alipoteza fahamu"
        r"|kuvunjika (mkono|mguu)|alivunjika|damu nyingi",
        "death": r"kufa\b|alikufa|amekufa|walikufa|wamekufa|kifo|vifo\b|marehemu",
        "passports": r"(pasipoti|paspoti|vitambulisho)~(zimechukuliwa|zilichukuliwa|zimeshikiliwa|zimezuiliwa"
        r"|zimenyang'anywa)",
        "child": rf"ajira ya watoto|watoto (wa|wenye) (miaka|umri wa miaka) {AGE}\b|watoto (\w+ )?wanafanya kazi"
        rf"|wanaajiri watoto|(umri|miaka) (ya|wa) chini",
        "beating": r"\w{1,5}(m|wa|tu|ni)piga\b|(ali|wali|ame|wame|tuli|nili)pigwa\b|kipigo",
        "sexual": r"kingono|ngono|ubakaji|kijinsia|(ali|wali|ame|wame|ku|hu|a|wa)baka\b",
        "threat": r"vitisho|kulipiza kisasi|kisasi",
        "confined": r"hawaturuhusu (kutoka|kuondoka|kwenda)|hatuwezi kutoka",
        "closure": r"(mmiliki|mwenye kiwanda|bosi|mwajiri|tajiri)~(toroka|kimbia|toweka)|(kimefungwa|kilifungwa"
        r"|kufunga kiwanda)~bila (kulipa|malipo|mshahara)|kufilisika|amefilisika",
    },
    exact={
        "injury": r"jeruhi|jeraha|zimia|kat(a|wa) (kidole|vidole|mkono|mguu)|(kidole|vidole|mkono|mguu)~(ku|vi|ki"
        r"|u|i)(me|li|na)?(katika|katwa|pondwa|sagwa)",
        "death": r"fariki|uawa|jiua|jinyonga",
        "passports": r"(chukua|shikilia|zuia|nyang'?anya|rudish|kataa kuzirudisha)\w*~(pasipoti|paspoti"
        r"|vitambulisho|kitambulisho)",
        "sexual": r"bakwa|nyanyasa kingono|nyanyaswa kingono",
        "threat": r"tishi[ao]",
        "confined": r"fungia ndani|fungiwa ndani|ruhusiwi kutoka|ruhusiwi kuondoka",
        "closure": r"kiwanda~(toroka|toweka)",
    },
)

# Vietnamese is matched without its tone marks too, so each word is taken with a neighbour that
# keeps it apart from its unmarked twins: "danh dap" (beaten) but not "danh gia" (evaluated), "da
# chet" (has died) but not "met chet di duoc" (tired to death), "khi doc" is also "when reading".
VI = Lang(
    "vi",
    rules={
        "exit": r"(cua|loi) thoat (hiem|nan)~(khoa|chan|bit|dong|xich)|(khoa|chan|bit|xich)\w*~(cua|loi) thoat "
        r"hiem|khong co (cua|loi) thoat hiem",
        "hazard": r"hoa hoan|chay lon|dam chay|boc chay|bi chay|chay no|phat no|vu no|no tung|bi sap|sap (tran"
        r"|mai)|do sap|ro ri (khi|gas|hoa chat)|hit phai (khi|hoa chat)|ngo doc khi",
        "injury": r"bi thuong|tai nan|dut (\w+ ){0,2}ngon|cut (\w+ )?ngon|mat (\w+ )?ngon tay|ngon tay~(dut|cut"
        r"|nat)|dap nat|nghien nat|bi bong|bong nang|ngat xiu|bat tinh|ngo doc|trung doc|bi gay (tay|chan|xuong)"
        r"|gay xuong|cap cuu|chay mau|dien giat",
        "death": r"da chet|bi chet|chet (roi|nguoi|duoi|tai cho|(\w+ )?sau khi)|nguoi chet|tu vong|thiet mang"
        r"|qua doi|(da|muon|doa|vu) tu (sat|tu\b)",
        "passports": r"(giu|thu|tich thu|khong tra|giu lai|thu giu|lay)\w*~(ho chieu|can cuoc|cmnd|cccd|the cu tru)"
        r"|(giu|tich thu|thu giu|giu lai)~giay to|(ho chieu|giay to|can cuoc|cmnd|cccd)~bi (giu|thu|tich thu"
        r"|lay)",
        "child": rf"lao dong tre em|tre em (\w+ )?(lam viec|lao dong|di lam)|tre vi thanh nien|chua du tuoi"
        rf"|duoi tuoi lao dong|(em|be|chau|tre) {AGE} tuoi|{AGE} tuoi (\w+ )?(lam viec|da phai)",
        "beating": r"danh dap|bi danh\b(?! (gia|dau|so|may|thue|bac))|danh (mot|hai|nguoi|cong nhan|toi|chung toi"
        r"|ban|anh|chi|em|ho|nhan vien|tho|lao dong|vao)\b|hanh hung|dam da|tat vao mat|bat nat",
        "sexual": r"quay roi|sam so|hiep dam|xam hai|dam o|so mo|cuong buc",
        "threat": r"de doa|doa (duoi|giet|danh|tra thu|cho nghi)|tra thu|tru dap",
        "confined": r"bi nhot|nhot (chung toi|toi|trong|lai|cong nhan)|khong cho (chung toi |toi |ho |cong nhan )?"
        r"(ra ngoai|ve nha|roi|ra khoi)|cam (ra ngoai|roi khoi)|giam long",
        "closure": r"(chu|giam doc)~(bo tron|tron mat|bien mat|tron di|bo di)|bo tron|dong cua~(khong tra|no)"
        r" luong|pha san|quyt luong",
    },
)

LATIN = (EN, ES, FR, PL, CS, UK, ID, MS, FIL, SW, VI)
