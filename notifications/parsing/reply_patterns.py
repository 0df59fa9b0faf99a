"""The vocabulary of reply extraction: how mail clients introduce quoted history.

Cyrillic, Turkish and CJK letters and full-width punctuation below are meant.

Kept apart from the algorithm in ``reply.py`` so a new client or language is a
one-line change here. Every pattern is matched against one line (or a few joined
lines for quote headers) and is anchored, so ordinary prose rarely matches.
"""

# ruff: noqa: RUF001
import re

_I = re.IGNORECASE
_COLON = "[:\uff1a]"  # ASCII or full-width (CJK) colon
_MARKUP = r"[*_]{0,2}"  # bold/italic markers left by HTML-to-text conversion
_WS = r"[ \t]*"

# Text added around a quote header by HTML-to-text conversion or Outlook's plain
# text: quote marks, bold/italic markers, dashes.
_LEAD = r"^[ \t]*(?:>[ \t]*)*[*_]{0,2}[ \t]*(?:-{2,}[ \t]*)?"

# --- "On <date>, <someone> wrote:" ----------------------------------------------
# The verb (or closing token) that ends a quote header, per language.
_WROTE_VERBS = (
    r"wrote|writes|sent|schrieb|schreibt|geschrieben|pisze|schreef|geschreven|a\s+écrit|écrit|escribió|escreveu|"
    r"ha\s+scritto|scrisse|skrev|kirjoitti|napisał\(a\)|napisał|napisała|napsal|"
    r"napísal|написал\(а\)|написала|написал|написав|написала\(в\)|пише|писал|"
    r"yazdı|đã\s+viết|írta|έγραψε"
)
_CJK_WROTE = r"写道|寫道|のメッセージ|さんは書きました|님이\s*작성"
CJK_WROTE_RE = re.compile(_CJK_WROTE)
WROTE_END_RE = re.compile(
    rf"(?:\b(?:{_WROTE_VERBS}){_WS}{_COLON}|(?:{_CJK_WROTE}){_WS}{_COLON}?"
    rf"|@[^\s@<>]+>?{_WS}{_COLON}|^{_WS}>{_WS}{_COLON}|\bUhr{_WS}:)"
    rf"{_WS}{_MARKUP}{_WS}$",
    _I,
)
# "---- John Smith wrote ----" (Android) and "-----On ... wrote-----".
DASHED_WROTE_RE = re.compile(
    rf"^[ \t]*-{{2,}}+.*\b(?:{_WROTE_VERBS})[ \t]*-{{2,}}[ \t]*$", _I
)

# Words that begin a quote header line, per language.
_HEADER_LEADS = (
    r"On|Le|Am|El|Il|Em|Op|Den|På|W\s+dniu|Dnia|Vào|At|Quoting|Citando|Zitat\s+von|"
    r"Dne|Dňa|Στις|Pada|Kl\.|在|于|於"
)
_WEEKDAYS = (
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,|"
    r"(?:понедельник|вторник|среда|четверг|пятница|суббота|воскресенье),"
)
_DATE_START = r"\d{1,4}[-/.年]\d{1,2}|\d{1,2}\.?[ \t]+[^\W\d_]{3,}\.?,?[ \t]+\d{2,4}"
HEADER_START_RE = re.compile(
    rf"{_LEAD}(?:(?:{_HEADER_LEADS})(?=[\s\d,])|{_DATE_START}|{_WEEKDAYS})", _I
)
# "reply text On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:" on one line.
INLINE_HEADER_RE = re.compile(r"(?:(?<=\S)[ \t]+|(?<=\S)-{2,}[ \t]*)(On[ \t].*\d.*)$")
# Old Gmail: "2013/7/20 Some One <some@example.com>" and "2016-03-03 17:21 GMT+01:00 X".
DATE_NAME_RE = re.compile(
    r"^[ \t]*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ \t]+(?:\d{1,2}:\d{2}[ \t]+)?"
    r"(?:GMT[+-]\d{1,2}(?::?\d{2})?[ \t]+\S.*"
    r"|\S.*(?:<[^<>\s]+@[^<>\s]+>|<)[ \t]*:?)[ \t]*$"
)
# Lotus Notes: '"Jane Doe" <jane@example.com> on 07/20/2000 10:15:32 AM'.
LOTUS_HEADER_RE = re.compile(
    r"^[ \t]*\S[^\n]*@[^\n]*[ \t]on[ \t]+\d{1,2}/\d{1,2}/\d{2,4}"
    r"(?:[ \t]+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?[ \t]*(?:[AaPp]\.?[Mm]\.?)?)?[ \t]*$"
)
# Lotus Notes reply headers have no "From:": the sender's name and the date
# stand on the line(s) above "To:", as "Kyle R Lilly 01/14/2000 01:16 PM" or as
# "Kyle R Lilly" / "01/14/2000 01:16 PM", sometimes with "Sent by: X" between.
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]*[AaPp]\.?[Mm]\.?)?"
_NUMERIC_DATE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}"
CLOCK_RE = re.compile(_CLOCK)
NUMERIC_DATE_RE = re.compile(rf"\b{_NUMERIC_DATE}\b")
YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b")
NOTES_DATE_LINE_RE = re.compile(
    rf"^(?P<name>.{{0,120}}?)[ \t]*(?:\bon[ \t]+)?{_NUMERIC_DATE}[ \t]+{_CLOCK}"
    r"(?:[ \t]+[A-Z]{2,5})?[ \t]*$"
)
SENT_BY_RE = re.compile(r"^[ \t]*(?:Sent by|Gesendet von|Envoyé par)[ \t]*:", _I)
# Notes' line between the sender/date line and To: on mail from the Internet.
RESPOND_TO_RE = re.compile(r"^[ \t]*Please respond to\b", _I)
# An address, an angle-bracketed part, Outlook's [mailto:...] or a Notes
# hierarchical name ("Eric Bass/HOU/ECT@ECT"): a header value, not prose.
ADDRESS_RE = re.compile(r"[^\s@<>]+@[^\s@<>]+|<[^<>]*>|\[mailto:|\w/[\w&]+/")
# Lower-case words allowed inside a person's or a team's name.
_PARTICLES = (
    "de da di del della der den des du dos das do van von la le los las y e et "
    "ter ten zu al bin via and und of the"
)
NAME_PARTICLES = frozenset(re.findall(r"\w+", _PARTICLES))
MAX_HEADER_LINES = 6
MAX_HEADER_CHARS = 400

# --- Outlook-style header blocks ("From: ... Sent: ... To: ... Subject: ...") -----
_FIELD_GROUPS = {
    "from": "From|Von|De|Da|Van|Från|Fra|Od|От|Від|发件人|寄件者|差出人|Kimden|Feladó|"
    "Lähettäjä|Afzender",
    "date": "Date|Sent|Datum|Gesendet|Envoyé|Inviato|Data|Enviado el|Enviado em|"
    "Enviada em|Enviado|Enviada|Fecha|Envoyé le|"
    "Verzonden|Skickat|Sendt|Dato|Wysłano|Отправлено|Дата|Надіслано|Odesláno|"
    "发送时间|傳送時間|日期|送信日時|日付|Gönderildi|Tarih|Elküldve|Dátum|Lähetetty|"
    "Päivämäärä",
    "to": "To|An|À|A|Para|Aan|Till|Til|Do|Кому|Komu|收件人|收件者|宛先|Kime|Címzett|"
    "Vastaanottaja",
    "cc": "Cc|Bcc|Kopie|Kopia|Kopi|Копия|Копія|DW|抄送|副本",
    "subject": "Subject|Betreff|Objet|Oggetto|Asunto|Assunto|Onderwerp|Ämne|Emne|"
    "Temat|Тема|Předmět|主题|主旨|件名|Konu|Tárgy|Aihe",
    "reply_to": "Reply-To|Antwort an|Répondre à|Risposta|Responder a|Antwoord aan|"
    "Svar til",
}
# One regex for all fields (the label looked up in FIELD_GROUP_OF): the line
# scans try it on every line, so one pass beats one regex per group.
FIELD_GROUP_OF = {
    label.casefold(): group
    for group, names in _FIELD_GROUPS.items()
    for label in names.split("|")
}
_LABELS = "|".join(sorted(FIELD_GROUP_OF, key=len, reverse=True))
HEADER_FIELD_RE = re.compile(
    rf"^{_WS}(?:>{_WS})*{_MARKUP}(?P<label>{_LABELS}){_MARKUP}{_WS}{_COLON}{_MARKUP}"
    r"(?:[ \t]|$)",
    _I,
)

# Date labels that are not only a mail client's ("Date: 12 March" in a notice).
GENERIC_DATE_FIELD_RE = re.compile(
    rf"^{_WS}(?:>{_WS})*{_MARKUP}(?:Date|Datum|Data|Fecha|Dato|Дата|日期|日付|Tarih|"
    rf"Dátum|Päivämäärä){_MARKUP}{_WS}{_COLON}",
    _I,
)

# A header block flattened onto one line by an HTML-to-text conversion:
# "From: X Sent: Tuesday, March 3, 2026 10:00 To: Y Subject: Z".
INLINE_FIELD_RES = {
    group: re.compile(
        rf"(?:^|[ \t]){_MARKUP}(?:{_FIELD_GROUPS[group]}){_MARKUP}{_WS}{_COLON}", _I
    )
    for group in ("date", "to", "subject")
}

# --- separator lines ---------------------------------------------------------------
_ORIGINAL_MESSAGE = (
    r"Original Message|Reply Message|Ursprüngliche Nachricht|Antwort Nachricht|"
    r"Originalnachricht|Message d'origine|Message original|Mensaje original|"
    r"Mensagem original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|"
    r"Ursprungligt meddelande|Originalmeddelande|Oprindelig meddelelse|"
    r"Opprinnelig melding|Alkuperäinen viesti|Wiadomość oryginalna|"
    r"Oryginalna wiadomość|Původní zpráva|Исходное сообщение|Оригінальне повідомлення|"
    r"原始邮件|原始郵件|元のメッセージ|Eredeti üzenet|Orijinal Mesaj"
)
ORIGINAL_MESSAGE_RE = re.compile(
    rf"^{_WS}{_MARKUP}{_WS}-{{2,}}+{_WS}(?:{_ORIGINAL_MESSAGE}){_WS}-{{2,}}{_WS}"
    rf"{_MARKUP}{_WS}$",
    _I,
)
_FORWARDED = (
    r"Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|"
    r"Messaggio inoltrato|Mensagem encaminhada|Doorgestuurd bericht|"
    r"Vidarebefordrat meddelande|Videresendt meddelelse|Videresendt melding|"
    r"Przekazana wiadomość|Wiadomość przekazana|Пересланное сообщение|"
    r"Переслане повідомлення|Přeposlaná zpráva|Välitetty viesti|转发的邮件|轉寄的郵件|"
    r"転送されたメッセージ|Továbbított üzenet|İletilen ileti"
)
FORWARD_RE = re.compile(
    rf"^{_WS}{_MARKUP}{_WS}-{{2,}}+{_WS}(?:{_FORWARDED}){_WS}-*{_WS}{_MARKUP}{_WS}$"
    r"|^[ \t]*(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|"
    r"Début du message réexpédié|Début du message transféré|"
    r"Inicio del mensaje reenviado|"
    r"Inizio messaggio inoltrato|Início da mensagem reencaminhada|"
    r"Begin doorgestuurd bericht)[ \t]*:[ \t]*$",
    _I,
)
# Lotus Notes: "----- Forwarded by Name/OU/ORG on 11/17/2000 08:02 AM -----" (the
# closing dashes may be wrapped onto the next line, or missing).
NOTES_FORWARD_RE = re.compile(
    r"^[ \t]*-{2,}+[ \t]*(?:Forwarded by|Weitergeleitet von|Transféré par|"
    r"Inoltrato da|Reenviado por|Doorgestuurd door)[ \t]+\S.*$",
    _I,
)
# --- signatures ----------------------------------------------------------------------
SIGNATURE_DELIMITER_RE = re.compile(r"^[ \t]*--[ \t]*$")
_DEVICE_SIGNATURES = (
    r"Sent from (?:my |the )?\S.*|Sent (?:via|with|using|by) \S.*|"
    r"Get \[?Outlook for \S.*|From my (?:iphone|ipad|android|mobile|phone)\b.*|"
    r"\S+ from mobile|Envoyé (?:de|depuis) (?:mon|l'application) \S.*|"
    r"Von meinem \S.* gesendet\.?|Gesendet von (?:meinem )?\S.*|Gesendet mit \S.*|"
    r"Diese Nachricht wurde von meinem \S.* gesendet\.?|"
    r"Verzonden (?:met|vanaf|van) \S.*|"
    r"Verstuurd vanaf \S.*|Enviado (?:desde|de|do) (?:mi|meu|o|el) \S.*|"
    r"Enviado con \S.*|Inviato da \S.*|Skickat från \S.*|Sendt fra \S.*|"
    r"Wysłane z \S.*|Отправлено с \S.*|Надіслано з \S.*|"
    r"從我的 ?\S+ ?傳送|从我的 ?\S+ ?发送|\S+から送信|"
    r"\(?sent from (?:a |my )?\S.*\)?|<<sent by \S.*>>"
)
DEVICE_SIGNATURE_RE = re.compile(
    rf"^[ \t]*[*_]{{0,2}}(?:{_DEVICE_SIGNATURES})[ \t]*$", _I
)
_DISCLAIMER_CUES = (
    r"intended recipient|received this (?:e-?mail|message|communication|transmission) "
    r"in error|confidentiality notice|(?:e-?mail|message)(?: and any attachments?)? "
    r"(?:is|are|may be|may contain|contains?)[^.]{0,40}(?:confidential|privileged)|"
    r"may contain (?:confidential|privileged)|vertrauliche (?:und/oder )?(?:rechtlich "
    r"geschützte )?informationen|nicht der richtige adressat|"
    r"destinataire(?:s)? (?:prévu|désigné|visé)|(?:message|courriel)[^.]{0,60}"
    r"confidentiel|(?:mensaje|correo)[^.]{0,60}confidencial|"
    r"(?:messaggio|e-?mail)[^.]{0,60}(?:riservat|confidenzial)|"
    r"(?:bericht|e-?mail)[^.]{0,60}vertrouwelijk|(?:e-?post|meddelande)[^.]{0,60}"
    r"konfidentiell|questo messaggio [eè]'? stato analizzato"
)
DISCLAIMER_RE = re.compile(_DISCLAIMER_CUES, _I)
# Every cue above holds one of these (lower case): a substring test on the whole
# text decides whether the per-line regex is worth running at all.
DISCLAIMER_WORDS = (
    "intended",
    "received this",
    "confidential",
    "privileg",
    "vertrauliche",
    "adressat",
    "destinataire",
    "confidentiel",
    "confidencial",
    "riservat",
    "confidenzial",
    "vertrouwelijk",
    "konfidentiell",
    "analizzato",
)
_PHONE = r"\+?\(?\d[\d \t().\-/]{6,}\d"
CONTACT_LINE_RE = re.compile(
    r"^[ \t]*(?:(?:tel(?:ephone|efon)?|phone|ph|mobile?|mob|cell|fax|direct|office|"
    rf"main|handy|t|m|p|f|d|o)\.?{_WS}[:.]?{_WS}{_PHONE}"
    rf"(?:{_WS}(?:x|ext\.?){_WS}\d+)?"
    rf"|{_PHONE}|(?:e-?mail|web|website|skype)[ \t]*:?[ \t]*\S+|(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)[ \t]*$",
    _I,
)
PHONE_LINE_RE = re.compile(rf"{_PHONE}")
# Contact details inside a signature line ("Tel: ...", "E: a@b", "www.x.com").
CONTACT_SIGNAL_RE = re.compile(
    rf"{_PHONE}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://|\bwww\.\S", _I
)
# A sign-off, alone ("Regards,") or with the name ("Thanks, Kyle").
_SIGN_OFFS = (
    r"thanks(?: a lot| again| so much)?|thank you(?: very much)?|many thanks|thx|ta|"
    r"cheers|regards|best|best regards|best wishes|kind regards|warm regards|"
    r"warmest regards|with regards|with best regards|sincerely|"
    r"yours(?: sincerely| truly)?|"
    r"all the best|take care|br|rgds|mfg|mit freundlichen grüßen|freundliche grüße|"
    r"viele grüße|beste grüße|liebe grüße|gruß|grüße|lg|danke|vielen dank|"
    r"cordialement|bien cordialement|bien à vous|salutations|merci|"
    r"saluti|cordiali saluti|distinti saluti|grazie|un saludo|saludos|atentamente|"
    r"gracias|groet|groeten|met vriendelijke groet|bedankt|hälsningar|"
    r"vänliga hälsningar|mvh|med venlig hilsen|pozdrawiam|obrigado|obrigada|"
    r"atenciosamente|abraços"
)
SIGN_OFF_RE = re.compile(
    rf"^[ \t]*(?:{_SIGN_OFFS})[ \t]*[,.!]?[ \t]*"
    r"(?P<name>[^\W\d_][\w.' -]{0,40})?[ \t]*$",
    _I,
)

# A line of punctuation only: what is left of rules, tracking pixels and delimiters.
DELIMITER_LINE_RE = re.compile(r"^[ \t]*[-_=*#~+.•·ᐧ\u2014\u2013|<>]+[ \t]*$")

# --- our own notification marker ----------------------------------------------------
MARKER_PHRASE_RE = re.compile(r"reply\s+above\s+this\s+line", _I)

INVISIBLE_CHARS_RE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
QUOTE_LINE_RE = re.compile(r"^[ \t]*>")
