"""Reading an office's old spreadsheet of requests: columns in Spanish,
Uzbek, Russian or English in any order; dates, phones, names and places as
clerks wrote them. Pure reading: :func:`read_rows` turns a file into rows
of cells, :func:`parse` turns rows into :class:`SheetRow` (or says by line
why a row cannot be read). Writing them is ``bot/commands/import_requests.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import phonenumbers
from rapidfuzz import fuzz, process

from flows.duplicates import Report
from flows.i18n import guess_language
from flows.textnorm import fold

FIELDS = ("date", "name", "phone", "locality", "text", "category", "status")
# Header words per field (folded: Cyrillic is read in Latin letters, accents dropped).
HEADERS = {
    "date": ("fecha", "fecha de ingreso", "dia", "sana", "kun", "data", "дата", "date", "day"),
    "name": ("apellido y nombre", "nombre y apellido", "nombre", "vecino", "vecina", "solicitante", "f i o", "fio", "фио",
             "f i sh", "fish", "ism", "ism familiya", "familiya ism", "murojaatchi", "имя", "заявитель", "name", "full name", "citizen"),
    "phone": ("telefono", "tel", "celular", "cel", "whatsapp", "contacto", "telefon", "телефон", "phone", "mobile", "tel raqam"),
    "locality": ("localidad", "barrio", "partido", "lugar", "mahalla", "qishloq", "mahalla qishloq", "tuman", "manzil",
                 "населенный пункт", "махалля", "село", "адрес", "locality", "place", "village", "address"),
    "text": ("motivo", "pedido", "reclamo", "descripcion", "detalle", "consulta", "murojaat", "murojaat matni", "mazmuni",
             "суть", "обращение", "текст", "text", "request", "description", "issue"),
    "category": ("categoria", "area", "rubro", "tema", "turi", "soha", "yo'nalish", "yonalish", "категория", "тип",
                 "category", "type", "topic"),
    "status": ("estado", "situacion", "holati", "holat", "статус", "состояние", "status", "state"),
}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y", "%d.%m.%y", "%Y/%m/%d", "%d %m %Y")
CLOSED_WORDS = ("resuelto", "resuelta", "cerrado", "cerrada", "finalizado", "hecho", "solucionado", "entregado", "hal qilindi",
                "bajarildi", "yopildi", "hal etildi", "решено", "закрыто", "выполнено", "done", "closed", "resolved")
WORKING_WORDS = ("derivado", "en curso", "en proceso", "en tramite", "urgente", "ko'rib chiqilmoqda", "korib chiqilmoqda",
                 "jarayonda", "yuborildi", "в работе", "на рассмотрении", "передано", "in progress", "forwarded")


class SheetError(ValueError):
    """The file cannot be read at all (not a sheet, no text column...)."""


@dataclass
class SheetRow:
    number: int  # 1-based data row (the header is not counted)
    text: str
    when: date | None = None
    name: str | None = None
    phone: str | None = None  # E.164
    locality_id: str | None = None  # a catalogue id
    place: str | None = None  # the place as written
    category_hint: str | None = None
    status: str = "new"
    language: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The row's identity across imports: the same row imports once."""
        words = "|".join([f"{self.when or ''}", fold(self.name or ""), self.phone or "", fold(self.place or ""), fold(self.text)])
        return hashlib.sha256(words.encode()).hexdigest()[:40]

    def report(self, category: str | None) -> Report:
        return Report(self.text, category, self.locality_id or (fold(self.place) if self.place else None), self.phone, self.name, self.when)


# -- the file -----------------------------------------------------------------

def read_rows(path: Path) -> list[list[str]]:
    """Every row of the first sheet (XLSX) or of the CSV (comma, semicolon or tab), as text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    try:
        source = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        source = path.read_bytes().decode("cp1252")  # an old Excel "CSV" from Windows
    first = source.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    return [row for row in csv.reader(io.StringIO(source), delimiter=delimiter)]


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as problem:  # noqa: BLE001 - openpyxl raises many kinds
        raise SheetError(f"not a readable XLSX file: {problem}") from None
    sheet = book.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append([_cell(v) for v in values])
    book.close()
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# -- the columns --------------------------------------------------------------

def columns(header: list[str]) -> dict[str, int]:
    """Which column holds which field, from header words in any of the four languages."""
    found: dict[str, int] = {}
    labels = [(name, fold(word)) for name, words in HEADERS.items() for word in words]
    for index, cell in enumerate(header):
        folded = fold(cell)
        if not folded:
            continue
        exact = next((name for name, word in labels if word == folded), None)
        if exact is None:
            best = process.extractOne(folded, [w for _, w in labels], scorer=fuzz.ratio, score_cutoff=80)
            exact = labels[best[2]][0] if best else None
        if exact is None:
            exact = next((name for name, word in labels if len(word) > 3 and (folded.startswith(word) or word in folded.split())), None)
        if exact and exact not in found:
            found[exact] = index
    if "text" not in found:
        raise SheetError(f"no column with the request's text among: {', '.join(h for h in header if h) or '(empty header)'}")
    return found


# -- the cells ----------------------------------------------------------------

# Month names as clerks write them: Spanish, Uzbek (both scripts, read in Latin letters), Russian, English.
_MONTHS = {
    stem: number for number, stems in enumerate([
        ("ene", "jan", "yanv", "январ"), ("feb", "fev", "февр"), ("mar", "март"), ("abr", "apr", "aprel", "апр"),
        ("may", "мая", "май"), ("jun", "iyun", "июн"), ("jul", "iyul", "июл"), ("ago", "aug", "avg", "авг"),
        ("sep", "set", "сент"), ("oct", "okt", "окт"), ("nov", "ноя"), ("dic", "dec", "dek", "дек"),
    ], 1) for stem in stems
}
_WRITTEN_DATE = re.compile(r"^(\d{1,2})(?:\s+de)?\s+([^\W\d_]+)\.?(?:\s+de)?\s+(\d{2,4})$")


def read_date(text: str) -> date | None:
    """2024-09-03, 03/09/2024, 3-9-24, 03.09.2024, "12 mar 2024", "27 fevral 2024":
    day first, as written in both countries. An impossible date is None."""
    text = text.strip().lower()
    if not text:
        return None
    if written := _WRITTEN_DATE.match(text):
        day, month, year = written.groups()
        number = next((n for stem, n in _MONTHS.items() if month.startswith(stem) or fold(month).startswith(fold(stem))), None)
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), number, int(day)) if number else None
        except ValueError:
            return None
    text = text.split(" ")[0]
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    if text.isdigit() and 20000 < int(text) < 80000:  # an Excel day number
        return date.fromordinal(date(1899, 12, 30).toordinal() + int(text))
    return None


def read_phone(text: str, region: str) -> str | None:
    """E.164, or None when it is not a phone number of ``region`` (or international)."""
    text = text.strip()
    if not text or not any(c.isdigit() for c in text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_name(text: str) -> str | None:
    """"GIMENEZ, Rosa" and "Medina, Rocío" as written; empty is None."""
    text = re.sub(r"\s+", " ", text.strip().strip(",;"))
    return text or None


def read_status(text: str) -> str:
    folded = fold(text)
    if any(fold(w) in folded for w in CLOSED_WORDS):
        return "closed"
    if any(fold(w) in folded for w in WORKING_WORDS):
        return "in_progress"
    return "new"


def parse(rows: list[list[str]], catalog, region: str | None = None) -> tuple[list[SheetRow], list[tuple[int, str]]]:
    """The readable rows and, for the others, (row, reason). ``region`` is
    the phones' country (AR or UZ), else guessed from the places."""
    if not rows:
        raise SheetError("the file is empty")
    where = columns(rows[0])
    places = PlaceFinder(catalog)
    data = rows[1:]
    while data and not any(cell.strip() for cell in data[-1]):
        data.pop()  # trailing blank lines are not rows
    good, skipped = [], []
    for number, cells in enumerate(data, 1):
        cell = lambda name: cells[where[name]].strip() if name in where and where[name] < len(cells) else ""  # noqa: E731
        text = cell("text")
        if not any(c.strip() for c in cells):
            skipped.append((number, "empty row"))
            continue
        if len(fold(text)) < 3:
            skipped.append((number, "no request text"))
            continue
        place = cell("locality") or None
        locality = places.find(place) if place else None
        country = region or (catalog.localities[locality].country if locality and catalog.localities[locality].country else None) or "AR"
        raw_date = cell("date")
        when = read_date(raw_date)
        row = SheetRow(
            number=number, text=text, when=when, name=read_name(cell("name")), phone=read_phone(cell("phone"), country),
            locality_id=locality, place=place, category_hint=cell("category") or None, status=read_status(cell("status")),
            language=guess_language(text, None),
        )
        if raw_date and when is None:
            row.extra["date_unread"] = raw_date
        good.append(row)
    return good, skipped


class PlaceFinder:
    """A place as written ("CITY BELL", "Gonzalez Catan", "Бекат", "S.F.
    Solano", "Trujui - Moreno") to a catalogue id: the most specific place
    named, villages before districts."""

    _SUFFIXES = re.compile(r"\b(tumani|district|partido de|distrito de|район|тумани)\b", re.I)

    def __init__(self, catalog):
        self.labels, self.ids, self.kinds = [], [], []
        for place in catalog.localities.values():
            if place.kind == "region":
                continue
            for name in set(place.names.values()):
                self.labels.append(fold(self._SUFFIXES.sub("", name)))
                self.ids.append(place.id)
                self.kinds.append(place.kind)
        self.cache: dict[str, str | None] = {}

    def find(self, written: str) -> str | None:
        if written not in self.cache:
            parts = [written] + [p for p in re.split(r"\s+[-–/,]\s*|,\s*|\s*/\s*|\(|\)", written) if p and p.strip() != written]
            found = [self._one(part) for part in parts]
            found = [f for f in found if f is not None]
            # the most specific: a village named anywhere wins over the district around it
            found.sort(key=lambda i: self.kinds[i] != "village")
            self.cache[written] = self.ids[found[0]] if found else None
        return self.cache[written]

    def _one(self, written: str) -> int | None:
        folded = fold(written)
        if not folded:
            return None
        found = process.extractOne(folded, self.labels, scorer=fuzz.WRatio, score_cutoff=90)
        if found:
            return found[2]
        shortened = _short_words(written)
        if len(shortened) < 2:
            return None
        matches = [i for i, label in enumerate(self.labels) if _abbreviates(shortened, label.split())]
        return matches[0] if len(set(self.ids[i] for i in matches)) == 1 else None


_PARTICLES = {"de", "del", "la", "las", "los", "el"}


def _short_words(written: str) -> list[str]:
    """"S.F. Solano" → s f solano; "MdP" → m d p; "San Fco Solano" → san fco solano."""
    words = []
    for word in re.split(r"[\s.]+", written.strip()):
        if word and not word.isupper() and re.fullmatch(r"[A-Z][a-z]?[A-Z][a-z]?[A-Z]?", word):
            words += [c.lower() for c in word if c.isalpha() and c.isupper() or c in "d"]
        elif word:
            words.append(fold(word))
    return [w for w in words if w]


def _abbreviates(short: list[str], name: list[str]) -> bool:
    """Each written word is the next name word, its initial, its beginning or
    its letters in order ("fco" for francisco); particles may be left out."""
    i = 0
    for word in name:
        if i < len(short) and (word.startswith(short[i]) or _in_order(short[i], word)):
            i += 1
        elif word not in _PARTICLES:
            return False
    return i == len(short)


def _in_order(short: str, word: str) -> bool:
    if not short or short[0] != word[0]:
        return False
    rest = iter(word[1:])
    return all(c in rest for c in short[1:])


# -- meaning ------------------------------------------------------------------

SURE = 80.0  # the classifier's score above which the text outweighs the sheet's own label


def category_of(row: SheetRow, catalog) -> str:
    """The request's category. A sheet's labels are often a department's
    broad name ("Servicios", "Obras", "Desarrollo Social"): the text decides
    when the classifier is sure of it, the sheet's label otherwise (an id or
    a name in any language, or words the classifier reads as one category),
    and the text alone when the sheet says nothing."""
    found = catalog.classifier.classify(row.text)
    text_category, text_score = found.top3[0] if found.top3 else (found.category, found.score)
    hinted = _hinted(row.category_hint, catalog) if row.category_hint else None
    if hinted and (hinted == text_category or text_score < SURE):
        return hinted
    if found.category == "other" and found.intent == "request" and found.top3:
        return text_category
    return found.category if found.category != "other" else (hinted or "other")


def _hinted(label: str, catalog) -> str | None:
    folded = fold(label)
    for category in catalog.categories:
        if folded == fold(category.id) or any(folded == fold(name) for name in category.names.values()):
            return category.id
    guess = catalog.classifier.classify(label)
    if guess.top3 and guess.top3[0][0] != "other" and guess.top3[0][1] >= 60:
        return guess.top3[0][0]
    return None


def duplicate_groups(rows: list[SheetRow], categories: list[str]) -> list[list[int]]:
    """Rows that are one request (row numbers), by the same rules as intake (:mod:`flows.duplicates`)."""
    from flows.duplicates import group

    reports = [row.report(category) for row, category in zip(rows, categories)]
    return [[rows[i].number for i in members] for members in group(reports)]
