"""Text that the sandbox's residents and municipality write.

Residents write mostly Swedish with emoji, some English, Arabic, Persian, Somali, Tigrinya,
Amharic, Finnish and Chinese. They also write the personal data residents really post (phone
numbers, e-mail addresses, personnummer and samordningsnummer with valid check digits, street
addresses) and near-misses that are *not* personal data (case numbers, order numbers, dates,
ten-digit numbers with a wrong check digit). The municipality writes municipal Swedish.

Every function takes a ``random.Random`` and is deterministic given its state. Templates are
``str.format_map`` strings whose slots are generated on demand, which keeps generation fast.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import TypeVar

TOPICS = (
    "snow",
    "waste",
    "school",
    "library",
    "roads",
    "parking",
    "culture",
    "swimming",
    "water",
    "elderly",
    "bus",
)
"""Subjects the municipality posts about and residents ask about."""

LANGUAGE_GROUPS = ("sv", "fi", "ar", "fa", "so", "ti", "am", "zh", "en")
"""Name and language groups of the resident population."""

GROUP_WEIGHTS = (62, 5, 9, 5, 5, 4, 3, 3, 4)

T = TypeVar("T")

WRITES_IN: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "sv": (("sv", "en"), (95, 5)),
    "fi": (("fi", "sv"), (30, 70)),
    "ar": (("ar", "sv", "en"), (45, 45, 10)),
    "fa": (("fa", "sv", "en"), (40, 50, 10)),
    "so": (("so", "sv", "en"), (45, 50, 5)),
    "ti": (("ti", "sv", "en"), (45, 50, 5)),
    "am": (("am", "sv", "en"), (45, 50, 5)),
    "zh": (("zh", "sv", "en"), (45, 35, 20)),
    "en": (("en", "sv"), (80, 20)),
}
"""For each name group: the languages its people write in, with weights."""

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "sv": (
        "Anna",
        "Eva",
        "Maria",
        "Karin",
        "Sara",
        "Lena",
        "Emma",
        "Johanna",
        "Linnéa",
        "Åsa",
        "Ingrid",
        "Maja",
        "Elsa",
        "Astrid",
        "Ebba",
        "Gunnel",
        "Birgitta",
        "Erik",
        "Lars",
        "Karl",
        "Anders",
        "Johan",
        "Per",
        "Mikael",
        "Björn",
        "Göran",
        "Nils",
        "Oskar",
        "Hugo",
        "Linus",
        "Måns",
        "Jörgen",
        "Sören",
        "Ulf",
        "Stig",
        "Agneta",
    ),
    "fi": ("Jukka", "Mikko", "Timo", "Päivi", "Aino", "Sanna", "Heikki", "Eeva", "Tuula"),
    "ar": (
        "Ahmed",
        "Mohammed",
        "Fatima",
        "Aisha",
        "Omar",
        "Layla",
        "Yusuf",
        "Mariam",
        "Hassan",
        "Noor",
        "Khaled",
        "Rania",
    ),
    "fa": ("Reza", "Sara", "Ali", "Maryam", "Parisa", "Hossein", "Dariush", "Shirin", "Navid", "Leila"),
    "so": ("Abdi", "Hodan", "Faadumo", "Mahad", "Ayaan", "Hibaaq", "Cabdi", "Sahra", "Khadar"),
    "ti": ("Yonas", "Selam", "Tesfay", "Helen", "Filmon", "Senait", "Mehari", "Ruth", "Dawit"),
    "am": ("Abebe", "Mekdes", "Dawit", "Tigist", "Bereket", "Hanna", "Samuel", "Meron"),
    "zh": ("Wei", "Fang", "Li", "Jing", "Min", "Hui", "Lei", "Yan"),
    "en": ("James", "Emily", "Michael", "Sophie", "Daniel", "Olivia", "Tom", "Grace"),
}

SURNAMES: dict[str, tuple[str, ...]] = {
    "sv": (
        "Andersson",
        "Johansson",
        "Karlsson",
        "Nilsson",
        "Eriksson",
        "Larsson",
        "Olsson",
        "Persson",
        "Svensson",
        "Gustafsson",
        "Pettersson",
        "Jönsson",
        "Lindberg",
        "Lindqvist",
        "Bergström",
        "Håkansson",
        "Sjöberg",
        "Åberg",
        "Öberg",
        "Ängström",
        "Nyström",
        "Holm",
        "Sandberg",
        "Wallin",
    ),
    "fi": ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Hämäläinen", "Laine", "Koskinen"),
    "ar": ("Hassan", "Ali", "Al-Sayed", "Haddad", "Khalil", "Nasser", "Ibrahim", "Mansour"),
    "fa": ("Ahmadi", "Hosseini", "Karimi", "Rahimi", "Mohammadi", "Tehrani", "Sadeghi"),
    "so": ("Mohamed", "Abdullahi", "Warsame", "Farah", "Jama", "Osman", "Hirsi", "Yusuf"),
    "ti": ("Tesfamariam", "Ghebremedhin", "Haile", "Berhane", "Tekle", "Kidane"),
    "am": ("Bekele", "Tadesse", "Alemu", "Girma", "Wolde", "Assefa"),
    "zh": ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang"),
    "en": ("Smith", "Brown", "Taylor", "Wilson", "Murphy", "Evans"),
}

NATIVE_SCRIPT_NAMES: dict[str, tuple[str, ...]] = {
    "ar": ("محمد علي", "فاطمة حسن", "أحمد خليل", "ليلى منصور"),
    "fa": ("رضا احمدی", "مریم حسینی", "شیرین کریمی"),
    "ti": ("ዮናስ ተስፋማርያም", "ሰላም ሃይለ"),
    "am": ("አበበ በቀለ", "መቅደስ ታደሰ"),
    "zh": ("王芳", "李伟", "张敏"),
}
"""Names some people use on their profile in their own script."""

EMOJI = ("👍", "😊", "❤️", "🙏", "😡", "❄️", "🚌", "📚", "🎄", "😂", "👏", "🤔", "😢", "☀️", "🙄", "💪")

STREETS = (
    "Storgatan",
    "Villavägen",
    "Björkvägen",
    "Skolgatan",
    "Kyrkogatan",
    "Ängsvägen",
    "Järnvägsgatan",
    "Östra Vallgatan",
    "Lärkvägen",
    "Åkervägen",
    "Norra Kungsvägen",
    "Hamngatan",
)
PLACES = (
    "Stortorget",
    "Rådhusparken",
    "Kulturhuset",
    "Folkets park",
    "Sporthallen",
    "Hamnplan",
    "Medborgarhuset",
)
TOWNS = ("Exempelby", "Ängelholm", "Helsingborg", "Höganäs", "Munka-Ljungby")
SCHOOLS = ("Norrskolan", "Söderskolan", "Ängsskolan", "Förskolan Solrosen", "Västra gymnasiet")
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
MAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "telia.com", "yahoo.se", "icloud.com")
DEPARTMENTS = (
    "gatuavdelningen",
    "skolförvaltningen",
    "VA-avdelningen",
    "biblioteket",
    "kontaktcenter",
    "miljöförvaltningen",
)
SIGNATURES = (
    "/Anna, kommunikatör",
    "/Kontaktcenter",
    "/Johan på kommunikationsavdelningen",
    "Vänliga hälsningar, Kontaktcenter",
)
INTERNATIONAL_PHONES = (
    "+44 7700 900{d3}",
    "+358 40 {d3} {d4}",
    "+49 151 2345{d4}",
    "+251 91 {d3} {d4}",
    "+252 61 5{d3}{d3}",
    "+1 415-555-0{d3}",
)


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """Return one of ``options`` chosen uniformly (faster than ``Random.choice``)."""
    return options[int(rng.random() * len(options))]


def between(rng: random.Random, low: int, high: int) -> int:
    """Return an integer in ``[low, high)`` chosen uniformly (faster than ``Random.randrange``)."""
    return low + int(rng.random() * (high - low))


@dataclass(frozen=True, slots=True)
class Person:
    """A resident or the page itself as an author: a platform id, a display name and a name group."""

    id: str
    name: str
    group: str = "sv"

    @property
    def first_name(self) -> str:
        """Return the first word of the display name."""
        return self.name.split(" ")[0]


def luhn_check_digit(digits: str) -> int:
    """Return the Luhn check digit for ``digits`` (weights 2,1,2,... from the left, as personnummer use)."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """Return True if the last ten digits of ``number`` (separators ignored) pass the Luhn check."""
    digits = "".join(c for c in number if c.isdigit())[-10:]
    return len(digits) == 10 and luhn_check_digit(digits[:9]) == int(digits[9])


def _birth_date(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    span = (date(last_year, 12, 31) - start).days
    return start + timedelta(days=between(rng, 0, span + 1))


def personnummer(rng: random.Random, coordination: bool = False) -> str:
    """Return a personnummer (or samordningsnummer: day + 60) with a valid check digit, in a random format."""
    style = between(rng, 0, 8)
    born = _birth_date(rng, 1919, 1926) if style == 0 and not coordination else _birth_date(rng, 1938, 2012)
    day = born.day + (60 if coordination else 0)
    serial = f"{between(rng, 1, 1000):03d}"
    short = f"{born:%y%m}{day:02d}"
    check = luhn_check_digit(short + serial)
    century = f"{born.year // 100}"
    if style == 0 and not coordination:
        return f"{short}+{serial}{check}"
    if style in (1, 2):
        return f"{century}{short}-{serial}{check}"
    if style == 3:
        return f"{century}{short}{serial}{check}"
    return f"{short}-{serial}{check}"


def wrong_check_number(rng: random.Random) -> str:
    """Return ten digits that look like a personnummer but fail the Luhn check (a near-miss)."""
    born = _birth_date(rng, 1945, 2005)
    head = f"{born:%y%m%d}{between(rng, 1, 1000):03d}"
    wrong = (luhn_check_digit(head) + between(rng, 1, 10)) % 10
    return f"{head}{wrong}"


def phone_number(rng: random.Random) -> str:
    """Return a Swedish mobile or landline number, or an international one, in a format people use."""
    style = between(rng, 0, 9)
    if style == 8:
        return pick(rng, INTERNATIONAL_PHONES).format(
            d3=between(rng, 100, 1000), d4=between(rng, 1000, 10000)
        )
    prefix = pick(rng, ("70", "72", "73", "76", "79"))
    a, b, c = between(rng, 100, 1000), between(rng, 10, 100), between(rng, 10, 100)
    if style == 0:
        return f"0{prefix}-{a} {b} {c}"
    if style == 1:
        return f"0{prefix}{a}{b}{c}"
    if style == 2:
        return f"+46 {prefix} {a} {b} {c}"
    if style == 3:
        return f"0{prefix} {a} {b} {c}"
    if style == 4:
        return f"+46{prefix}{a}{b}{c}"
    if style == 5:
        return f"042-{between(rng, 10, 100)} {b} {c}"
    if style == 6:
        return f"08-{a} {between(rng, 100, 1000)} {c}"
    return f"031-{b} {c} {between(rng, 10, 100)}"


_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


def email_address(rng: random.Random, group: str = "sv") -> str:
    """Return a plausible private e-mail address built from a name in ``group``."""
    first = pick(rng, FIRST_NAMES[group]).lower().translate(_ASCII)
    last = pick(rng, SURNAMES[group]).lower().translate(_ASCII).replace("-", "")
    joiner = pick(rng, (".", "", "_"))
    suffix = str(between(rng, 50, 99)) if rng.random() < 0.4 else ""
    return f"{first}{joiner}{last}{suffix}@{pick(rng, MAIL_DOMAINS)}"


def street_address(rng: random.Random) -> str:
    """Return a street address, sometimes with postcode and town ("Villavägen 3B, 262 31 Ängelholm")."""
    number = f"{between(rng, 1, 60)}{pick(rng, ('', '', '', 'A', 'B'))}"
    street = f"{pick(rng, STREETS)} {number}"
    if rng.random() < 0.4:
        return f"{street}, {between(rng, 250, 270)} {between(rng, 10, 100)} {pick(rng, TOWNS)}"
    return street


def case_number(rng: random.Random) -> str:
    """Return a municipal case number such as "KS 2026/123" (not personal data)."""
    return f"{pick(rng, ('KS', 'BN', 'SBN', 'MN', 'KFN'))} {pick(rng, (2025, 2026))}/{between(rng, 12, 2400)}"


def order_number(rng: random.Random) -> str:
    """Return an order or invoice number (not personal data)."""
    if rng.random() < 0.5:
        return str(between(rng, 1_000_000, 9_999_999))
    return f"ORD-2026-{between(rng, 1, 99999):05d}"


def _swedish_date(rng: random.Random) -> str:
    month = between(rng, 10, 13)
    day = between(rng, 1, 29)
    return f"{day} {MONTHS[month - 1]}" if rng.random() < 0.6 else f"2026-{month:02d}-{day:02d}"


SLOT_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "street": lambda rng: pick(rng, STREETS),
    "address": street_address,
    "place": lambda rng: pick(rng, PLACES),
    "school": lambda rng: pick(rng, SCHOOLS),
    "weekday": lambda rng: pick(rng, WEEKDAYS),
    "date": _swedish_date,
    "time": lambda rng: f"{between(rng, 8, 20)}.{pick(rng, ('00', '30'))}",
    "phone": phone_number,
    "email": email_address,
    "pnr": personnummer,
    "snr": lambda rng: personnummer(rng, coordination=True),
    "case": case_number,
    "order": order_number,
    "bad10": wrong_check_number,
    "dept": lambda rng: pick(rng, DEPARTMENTS),
    "emoji": lambda rng: pick(rng, EMOJI),
    "n": lambda rng: str(between(rng, 2, 40)),
    "amount": lambda rng: f"{between(rng, 1, 30) * 50} kr",
}


PERSONAL_SLOTS: dict[str, str] = {
    "pnr": "personnummer",
    "snr": "samordningsnummer",
    "phone": "phone",
    "email": "email",
    "address": "address",
    "first": "name",
}
"""Slots that write personal data, and the category of personal data each writes (``first`` is
the first name of the resident the page answers)."""

_RECORDER: ContextVar[list[tuple[str, str]] | None] = ContextVar("sandbox_personal_data", default=None)


@contextmanager
def recording_personal_data() -> Iterator[list[tuple[str, str]]]:
    """Yield a list that collects (category, value) for every personal-data slot filled inside
    the ``with`` block; recording never touches the random generator."""
    recorded: list[tuple[str, str]] = []
    token = _RECORDER.set(recorded)
    try:
        yield recorded
    finally:
        _RECORDER.reset(token)


def _record(key: str, value: str) -> None:
    recorded = _RECORDER.get()
    if recorded is not None and key in PERSONAL_SLOTS:
        recorded.append((PERSONAL_SLOTS[key], value))


class _Slots(dict[str, str]):
    """Template slots generated on first use, so a template only pays for the slots it has."""

    def __init__(self, rng: random.Random, fixed: dict[str, str] | None = None) -> None:
        super().__init__(fixed or {})
        self._rng = rng

    def __missing__(self, key: str) -> str:
        value = SLOT_MAKERS[key](self._rng)
        self[key] = value
        _record(key, value)
        return value


def fill(rng: random.Random, template: str, **fixed: str) -> str:
    """Return ``template`` with every ``{slot}`` filled from the slot makers or ``fixed``."""
    for key, value in fixed.items():
        if "{" + key + "}" in template:
            _record(key, value)
    return template.format_map(_Slots(rng, fixed))


PAGE_POSTS: dict[str, tuple[str, ...]] = {
    "snow": (
        "Vinterväghållningen är i full gång ❄️ Plogbilarna prioriterar huvudgator, busshållplatser och gång- och cykelvägar till skolor. Villagator plogas när snödjupet överstiger 10 cm.",
        "Snöoväder väntas under natten mot {weekday}. Sandning och plogning startar kl. {time}. Ställ gärna bilen på tomten så att plogbilen kommer fram.",
        "Nu är det halt på många gång- och cykelvägar. Vi sandar så fort vi kan – prioritet har {street} och området runt {school}.",
    ),
    "waste": (
        "Sophämtningen i vecka 47 flyttas en dag framåt på grund av helgdag. Ställ ut kärlet senast kl. 06.00 på hämtningsdagen 🚛",
        "Återvinningscentralen har utökade öppettider {weekday} {date}, kl. {time}–19.00. Tänk på att sortera innan du kommer!",
        "Julgranshämtning sker {date}. Lägg granen vid tomtgränsen utan pynt och plastpåsar 🎄",
    ),
    "school": (
        "Ansökan till förskoleklass för barn födda 2020 är öppen till {date}. Ansök via e-tjänsten på kommunens webbplats.",
        "Studiedag på {school} {weekday} {date}. Fritidshemmet har öppet för barn som har behov av omsorg.",
        "Skollunchen vecka 48: bland annat fiskgratäng, vegetarisk lasagne och ärtsoppa med pannkakor på torsdag 🥞",
    ),
    "library": (
        "Biblioteket har ändrade öppettider under {date}: vi öppnar kl. 12.00 och stänger kl. 19.00 📚",
        "Välkommen på sagostund för barn 3–6 år på biblioteket {weekday} kl. {time}. Fri entré, ingen anmälan.",
        "Nu kan du låna e-böcker och ljudböcker dygnet runt med ditt lånekort. Fråga personalen om du behöver hjälp att komma igång.",
    ),
    "roads": (
        "Vägarbete på {street} från {date}. Trafiken leds om via {street}. Arbetet beräknas pågå i tre veckor.",
        "Vi byter gatubelysning på {street} under vecka 46. Det kan bli tillfälligt mörkt under några kvällar.",
        "Asfaltering av {street} sker {weekday} {date}. Parkering är förbjuden på gatan mellan kl. 07.00 och 16.00.",
    ),
    "parking": (
        "Från och med {date} gäller nya parkeringsregler runt {place}. Avgift tas ut vardagar kl. 09–18.",
        "Påminnelse: nattparkering är förbjuden på gator med städning {weekday}ar under vintern.",
    ),
    "culture": (
        "Välkommen till julmarknad på {place} lördag {date} kl. 11–16! Lokala hantverkare, glögg och tomtebesök 🎄",
        "Kulturskolan bjuder in till konsert i Kulturhuset {weekday} kl. {time}. Fri entré!",
        "Konstutställningen ”Ljus i mörker” visas i {place} till och med {date}. Varmt välkomna!",
    ),
    "swimming": (
        "Simhallen är stängd {weekday} {date} på grund av service. Vi ber om ursäkt för besväret.",
        "Nu startar vattengympa för seniorer i simhallen, {weekday}ar kl. {time}. Kostnad {amount} per tillfälle.",
    ),
    "water": (
        "Vattenavstängning på {street} {weekday} kl. {time}–15.00 på grund av ledningsarbete. Tappa upp vatten i förväg 💧",
        "Kokningsrekommendationen för området kring {street} är nu hävd. Vattnet går att dricka som vanligt.",
    ),
    "elderly": (
        "Träffpunkt för seniorer på {place} varje {weekday} kl. {time}. Fika, sällskap och föreläsningar.",
        "Nu kan du ansöka om trygghetslarm via e-tjänsten eller genom att ringa kommunens kontaktcenter på 042-10 50 00.",
    ),
    "bus": (
        "Linje 3 kör omledning via {street} från {date} på grund av vägarbete. Hållplats {place} flyttas tillfälligt 🚌",
        "Nya tidtabeller för stadsbussarna gäller från {date}. Se reseplaneraren för din resa.",
    ),
}

QUESTIONS_SV: dict[str, tuple[str, ...]] = {
    "snow": (
        "När ska {street} plogas? Kommer inte ut med bilen {emoji}",
        "Hur prioriteras snöröjningen egentligen? Vår gata har inte sett en plogbil på tre dagar",
        "Varför plogar ni in snövallen framför vår infart varje gång?? {emoji}",
        "Tack för snabb plogning i morse! {emoji}",
    ),
    "waste": (
        "Sopbilen har inte varit här på två veckor, vem ska jag kontakta?",
        "Får man slänga frigolit i plaståtervinningen?",
        "Kärlet på {address} är trasigt sedan förra tömningen, kan ni byta det?",
    ),
    "school": (
        "Vad gäller för fritids på studiedagen? Måste man anmäla?",
        "När kommer beskedet om skolplacering? Vi sökte i september.",
        "Maten på {school} är verkligen bra nu, tack till kökspersonalen {emoji}",
    ),
    "library": (
        "Har biblioteket öppet på {weekday}?",
        "Kan man lämna tillbaka böcker i inlämningen när det är stängt?",
        "Finns det böcker på arabiska och somaliska för barn?",
    ),
    "roads": (
        "Hur länge ska vägarbetet på {street} pågå? Det är kaos varje morgon",
        "Det är ett jättestort hål i asfalten vid {street} {n}, någon kommer att cykla omkull",
        "Gatlyset har varit släckt på {street} i en vecka nu {emoji}",
    ),
    "parking": (
        "Var ska vi som bor på {street} parkera nu då?",
        "Fick p-bot fast skylten var täckt av snö. Hur överklagar man?",
    ),
    "culture": (
        "Blir det tomtebesök i år också? Barnen undrar {emoji}",
        "Vad roligt! Kommer det finnas glutenfritt i fikat?",
        "Måste man köpa biljett i förväg?",
    ),
    "swimming": (
        "Är det öppet för allmänheten på {weekday}ar?",
        "Vattnet i bassängen var iskallt i går {emoji}",
    ),
    "water": (
        "Vi har brunt vatten på {street}, är det farligt?",
        "Hur länge ska vattnet vara avstängt?",
    ),
    "elderly": (
        "Min mamma har väntat på hemtjänst i över en vecka, vem kan jag prata med?",
        "Vad fint! Behöver man anmäla sig?",
    ),
    "bus": (
        "Bussen kom inte i morse igen {emoji} Hur ska barnen komma till skolan?",
        "Var ligger den tillfälliga hållplatsen?",
    ),
}

GENERIC_SV = (
    "Tack för infon! {emoji}",
    "Bra jobbat! {emoji}",
    "Äntligen!",
    "Varför får vi aldrig veta sånt här i tid?",
    "Det här borde ha gjorts för länge sedan.",
    "Vem ansvarar för det här? Jag har ringt tre gånger utan svar.",
    "Håller med ovan {emoji}",
    "Skattepengar i sjön som vanligt {emoji}",
    "Tack, precis vad jag undrade!",
    "Kan någon förklara vad som gäller? Förstår inte riktigt",
    "Hej! Var kan man läsa mer om det här?",
    "Vi är många i området som är missnöjda med hur det sköts {emoji}",
)

REPLIES_SV = (
    "Håller helt med dig!",
    "Samma här på {street} {emoji}",
    "Ring kontaktcenter, de brukar kunna hjälpa till.",
    "Det stod på hemsidan förra veckan.",
    "Nej, det har inte hänt något hos oss heller.",
    "Haha ja, typiskt {emoji}",
    "Tack för tipset!",
    "Jag fick svar direkt när jag mejlade dem.",
    "Det där stämmer inte riktigt, läs inlägget igen.",
)

PERSONAL_SV = (
    "Ring mig gärna på {phone} så förklarar jag.",
    "Min mejl är {email} om ni vill höra av er.",
    "Mitt personnummer är {pnr} om ni behöver det för ärendet.",
    "Det gäller min son, personnummer {pnr}, som ska börja på {school}.",
    "Jag bor på {address} och har inte fått någon hämtning.",
    "Kontakta mig på {email} eller {phone}.",
    "Mitt samordningsnummer är {snr}, jag har inget personnummer än.",
    "Pappa bor på {address}, hans telefon är {phone}.",
    "Skicka beslutet till {email}, mitt pnr är {pnr}.",
)

NEAR_MISS_SV = (
    "Jag har ärendenummer {case} sedan i augusti.",
    "Ordernummer {order}, betalat {amount} men inget har hänt.",
    "Det hände den {date} vid {place}.",
    "Mitt kundnummer är {bad10}, fakturan stämmer inte.",
    "Ni svarade i ärende {case} att det skulle åtgärdas {date}.",
    "Fakturanummer {bad10} – varför två påminnelser?",
)

OTHER_LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": (
        "Thank you for the info! {emoji}",
        "Does anyone know when the library opens on {weekday}?",
        "The road on {street} is full of potholes.",
        "Is there information about this in English?",
        "Great initiative, thanks!",
    ),
    "ar": (
        "شكرا على المعلومات {emoji}",
        "متى تفتح المكتبة يوم السبت؟",
        "الطريق مليء بالثلج، متى سيتم تنظيفه؟",
        "هل توجد معلومات باللغة العربية؟",
        "لم يأت الباص هذا الصباح {emoji}",
    ),
    "fa": (
        "ممنون از اطلاع رسانی {emoji}",
        "کی برف روبی خیابان ما انجام میشه؟",
        "کتابخانه ساعت چند باز است؟",
        "آیا اطلاعات به زبان فارسی هم هست؟",
    ),
    "so": (
        "Mahadsanid macluumaadka! {emoji}",
        "Goorma ayaa la nadiifinayaa barafka waddadayada?",
        "Maktabadda goorma ayay furantahay?",
        "Ma jiraa macluumaad af Soomaali ah?",
    ),
    "ti": (
        "የቐንየለይ ስለቲ ሓበሬታ {emoji}",
        "ቤት መጻሕፍቲ መዓስ ይኽፈት?",
        "ኣብ ጽርግያና በረድ ኣሎ፡ መዓስ ይጽረግ?",
    ),
    "am": (
        "ስለ መረጃው እናመሰግናለን {emoji}",
        "ቤተ መጻሕፍቱ መቼ ይከፈታል?",
        "መንገዱ በበረዶ ተሸፍኗል",
    ),
    "fi": (
        "Kiitos tiedosta! {emoji}",
        "Milloin kirjasto on auki lauantaina?",
        "Lumiaura ei ole käynyt meidän kadulla.",
        "Onko tietoa saatavilla suomeksi?",
    ),
    "zh": (
        "谢谢分享！{emoji}",
        "请问图书馆周末几点开门？",
        "我们街上的雪什么时候清理？",
        "有中文的信息吗？",
    ),
}

PERSONAL_OTHER = (
    "My number is {phone}, please call me.",
    "رقم هاتفي {phone}",
    "Email: {email}",
    "Lambarkaygu waa {phone}",
)

PAGE_REPLIES = (
    "Hej {first}! Tack för att du hör av dig. Vi har skickat frågan vidare till {dept}. {sig}",
    "Hej {first}, vi beklagar besväret. Kontakta gärna kontaktcenter på 042-10 50 00 så hjälper vi dig. {sig}",
    "Hej! Informationen finns på kommunens webbplats under Trafik och gator. {sig}",
    "Tack {first}! Vad roligt att höra {emoji} {sig}",
    "Hej {first}. Vi har tagit bort personuppgifter från din kommentar. Skicka gärna ditt ärende via e-tjänsten i stället. {sig}",
    "Hej {first}, arbetet beräknas vara klart {date}. {sig}",
)

RESIDENT_MESSAGES_FIRST = (
    "Hej! Jag har en fråga om {topic_word}.",
    "Hej, jag vill klaga på {topic_word}. Det har pågått länge nu.",
    "Hej kommunen. Vem ska jag kontakta angående {topic_word}?",
    "Hej! Jag har sökt bygglov ({case}) och undrar hur lång tid det tar.",
    "Hello, do you have information in English about {topic_word}?",
    "السلام عليكم، عندي سؤال عن المدرسة",
)

RESIDENT_MESSAGES = (
    "Tack för svaret! {emoji}",
    "Okej, men när då?",
    "Jag har redan gjort det, inget händer.",
    "Här är bilden på skadan.",
    "Bra, då väntar jag på besked.",
    "Kan ni ringa mig i stället?",
    "Jag förstår inte riktigt, kan ni förklara igen?",
    "Mahadsanid!",
    "ممنون",
)

PAGE_MESSAGES = (
    "Hej {first}! Tack för ditt meddelande. Vi har skickat ärendet vidare till {dept}. Ärendenummer: {case}.",
    "Hej {first}, kan du skicka adressen det gäller?",
    "Hej! Vi har tagit emot din bild och återkommer så snart vi kan.",
    "Hej {first}. Handläggaren kontaktar dig inom fem arbetsdagar.",
    "Vi svarar vardagar kl. 08–16. Vid akuta ärenden ring 042-10 50 00.",
    "Tack! Ärendet är nu registrerat med nummer {case}.",
)

TOPIC_WORDS = {
    "snow": "snöröjningen",
    "waste": "sophämtningen",
    "school": "skolplaceringen",
    "library": "biblioteket",
    "roads": "vägarbetet",
    "parking": "parkeringen",
    "culture": "evenemanget",
    "swimming": "simhallen",
    "water": "vattnet",
    "elderly": "hemtjänsten",
    "bus": "bussarna",
}

COMMENT_EDITS = (
    " Edit: nu har det ordnat sig, tack! {emoji}",
    " Uppdatering: fick svar via mejl.",
    " EDIT: fel gata, jag menar {street}.",
    " Edit: ring mig på {phone}",
    " (Ändrat: det var {weekday} inte igår)",
)

POST_EDITS = (
    "\n\nUppdaterat: tiden är ändrad till kl. {time}.",
    "\n\nUppdatering {date}: arbetet är klart. Tack för ert tålamod!",
    "\n\nRättelse: det gäller {street}, inte {place}.",
)


_WRITES_IN_CUMULATIVE = {
    group: (languages, list(accumulate(weights))) for group, (languages, weights) in WRITES_IN.items()
}


def choose_language(rng: random.Random, group: str) -> str:
    """Return the language a person of ``group`` writes this text in."""
    languages, cumulative = _WRITES_IN_CUMULATIVE[group]
    return languages[bisect(cumulative, rng.random() * cumulative[-1])]


def _with_emoji(rng: random.Random, text: str) -> str:
    return f"{text} {pick(rng, EMOJI)}" if rng.random() < 0.2 else text


def _swedish_comment(rng: random.Random, topic: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        extra = PERSONAL_SV if roll < 0.12 else NEAR_MISS_SV
        text = f"{fill(rng, pick(rng, QUESTIONS_SV[topic]))} {fill(rng, pick(rng, extra))}"
    elif roll < 0.65:
        text = fill(rng, pick(rng, QUESTIONS_SV[topic]))
    else:
        text = fill(rng, pick(rng, GENERIC_SV))
    return _with_emoji(rng, text)


def resident_comment(rng: random.Random, group: str, topic: str) -> str:
    """Return what a resident of ``group`` comments on a post about ``topic``."""
    language = choose_language(rng, group)
    if language == "sv":
        return _swedish_comment(rng, topic)
    text = fill(rng, pick(rng, OTHER_LANGUAGES[language]))
    if rng.random() < 0.08:
        text = f"{text} {fill(rng, pick(rng, PERSONAL_OTHER))}"
    return text


def resident_reply(rng: random.Random, group: str, topic: str) -> str:
    """Return what a resident answers to another comment on a post about ``topic``."""
    if choose_language(rng, group) != "sv" or rng.random() < 0.3:
        return resident_comment(rng, group, topic)
    return _with_emoji(rng, fill(rng, pick(rng, REPLIES_SV)))


def visitor_post(rng: random.Random, group: str) -> tuple[str, str]:
    """Return the text and topic of a post a resident writes on the page's feed."""
    topic = pick(rng, TOPICS)
    text = resident_comment(rng, group, topic)
    if rng.random() < 0.5:
        text = f"Hej kommunen! {text}"
    return text, topic


def page_post(rng: random.Random, topics: tuple[str, ...]) -> tuple[str, str]:
    """Return the text and topic of a municipal post, the topic drawn from ``topics``."""
    topic = pick(rng, topics)
    return fill(rng, pick(rng, PAGE_POSTS[topic])), topic


def page_reply(rng: random.Random, to: Person) -> str:
    """Return the page's answer to a comment by ``to``."""
    return fill(rng, pick(rng, PAGE_REPLIES), first=to.first_name, sig=pick(rng, SIGNATURES))


def resident_message(rng: random.Random, group: str, topic: str, first: bool) -> str:
    """Return a Messenger message from a resident; ``first`` when it opens a conversation."""
    pool = RESIDENT_MESSAGES_FIRST if first else RESIDENT_MESSAGES
    text = fill(rng, pick(rng, pool), topic_word=TOPIC_WORDS[topic])
    roll = rng.random()
    if roll < 0.3:
        return f"{text} {fill(rng, pick(rng, PERSONAL_SV))}"
    if roll < 0.38:
        return f"{text} {fill(rng, pick(rng, NEAR_MISS_SV))}"
    language = choose_language(rng, group)
    if language != "sv":
        return f"{text} {fill(rng, pick(rng, OTHER_LANGUAGES[language]))}"
    return text


def page_message(rng: random.Random, to: Person) -> str:
    """Return a Messenger message from the page to ``to``."""
    return fill(rng, pick(rng, PAGE_MESSAGES), first=to.first_name)


def edited_comment(rng: random.Random, text: str) -> str:
    """Return ``text`` as its author edited it."""
    return text + fill(rng, pick(rng, COMMENT_EDITS))


def edited_post(rng: random.Random, text: str) -> str:
    """Return the page's post ``text`` after the page edited it."""
    return text + fill(rng, pick(rng, POST_EDITS))


def person_name(rng: random.Random, group: str) -> str:
    """Return a display name for a person of ``group``, sometimes in their own script."""
    native = NATIVE_SCRIPT_NAMES.get(group)
    if native and rng.random() < 0.15:
        return pick(rng, native)
    return f"{pick(rng, FIRST_NAMES[group])} {pick(rng, SURNAMES[group])}"
