import contextlib
import io
import re
import threading
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.conf import settings
from django.utils.cache import patch_cache_control, patch_vary_headers


class SecurityHeadersMiddleware:
    """CSP and related headers on every response; nothing personal is kept in a cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)"
        )
        # Every answer of the application may carry personal data (signed-in pages, the API, a
        # customer's survey link); static files are served before this middleware runs.
        patch_cache_control(response, no_store=True, private=True)
        return response


class LanguageMiddleware:
    """Simplified Chinese unless the user chose English with the language switch.

    The browser's Accept-Language is deliberately ignored: branch PCs and tablets are often set up
    in English, and the cooperative's working language is Chinese.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response


# --- personal data capture (test settings only) ------------------------------------------------

# Same boundaries as coop.logging: not inside a longer run of digits or letters, so 20-digit
# account numbers, timestamps and contract numbers are not taken for ID or mobile numbers.
PERSONAL_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"
)
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_PDF_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


@dataclass(frozen=True)
class PersonalDataFinding:
    where: str  # "url", "location", "body", "log"
    path: str
    view: str
    value: str
    excerpt: str


# The test session drains this list after every test (tests/security/pdcapture.py).
FINDINGS: list[PersonalDataFinding] = []
_findings_lock = threading.Lock()


def personal_numbers(text: str) -> list[str]:
    return [m.group(0) for m in PERSONAL_NUMBER.finditer(text)]


def report_personal_data(*, where: str, path: str, view: str, text: str, allowed=()) -> None:
    for match in PERSONAL_NUMBER.finditer(text):
        value = match.group(0)
        if value.upper() in allowed:
            continue
        start = max(match.start() - 60, 0)
        excerpt = text[start : match.end() + 60].replace("\n", " ")
        with _findings_lock:
            FINDINGS.append(PersonalDataFinding(where, path, view, value, excerpt))


def _pdf_text(data: bytes) -> str:
    """The literal strings of a PDF's (Flate-compressed) content streams, CID text included."""
    chunks = []
    for raw in _PDF_STREAM.findall(data):
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        for literal in _PDF_STRING.findall(raw):
            chunks.append(_pdf_unescape(literal[1:-1]).replace(b"\x00", b"").decode("latin-1"))
    return "\n".join(chunks)


def _pdf_unescape(body: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(body):
        c = body[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            i += 1 + len(octal.group(0))
        else:
            out += _PDF_ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "\n".join(
            re.sub(r"<[^>]+>", " ", book.read(name).decode("utf-8", "replace"))
            for name in book.namelist()
            if name.endswith(".xml")
        )


def response_text(content_type: str, data: bytes) -> str:
    content_type = content_type.split(";")[0].strip().lower()
    if content_type == "application/pdf":
        return _pdf_text(data)
    if content_type.endswith("spreadsheetml.sheet"):
        return _xlsx_text(data)
    return data.decode("utf-8", "replace")


def _submitted_numbers(request) -> frozenset[str]:
    """Numbers the user sent with this very request (form fields, JSON body, query string)."""
    texts = [request.META.get("QUERY_STRING", "")]
    if request.method not in ("GET", "HEAD"):
        try:
            texts.append(request.body.decode("utf-8", "replace"))
        except Exception:  # the body was already streamed to a view
            texts.extend(str(v) for v in request.POST.values())
    return frozenset(v.upper() for text in texts for v in personal_numbers(unquote_plus(text)))


class PersonalDataCaptureMiddleware:
    """Report every unmasked ID or mobile number in a URL, a redirect or a response body.

    Permitted (and not reported):
    - the body of an explicit reveal view (``settings.PERSONAL_DATA_REVEAL_VIEWS``) answering a
      user who holds ``coop.view_full_personal_data``;
    - a number the same user sent with this very request (a form or lookup re-displaying the
      value just typed, a validation error naming it), in the answer to that request only.
    A URL never carries one: a request whose address holds a number must be refused (4xx) or
    redirected to an address without it; a redirect never points at one. Enabled in the test
    settings only.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else ""
        if response.status_code < 400 and not response.has_header("Location"):
            # Anybody can type a number into an address; the application must not take it
            # (answer 4xx, or redirect to an address without it — checked below).
            url = unquote_plus(f"{path}?{request.META.get('QUERY_STRING', '')}")
            report_personal_data(where="url", path=path, view=view, text=url)
        if response.has_header("Location"):
            location = unquote_plus(response["Location"])
            report_personal_data(where="location", path=path, view=view, text=location)
        user = getattr(request, "user", None)
        if (
            view in getattr(settings, "PERSONAL_DATA_REVEAL_VIEWS", ())
            and user is not None
            and user.has_perm("coop.view_full_personal_data")
        ):
            return response
        allowed = _submitted_numbers(request)
        content_type = response.get("Content-Type", "")
        if response.streaming:
            response.streaming_content = self._scan_stream(
                response.streaming_content, content_type, path, view, allowed
            )
        else:
            text = response_text(content_type, response.content)
            report_personal_data(where="body", path=path, view=view, text=text, allowed=allowed)
        return response

    @staticmethod
    def _scan_stream(chunks, content_type, path, view, allowed):
        seen = []
        for chunk in chunks:
            seen.append(chunk if isinstance(chunk, bytes) else str(chunk).encode())
            yield chunk
        text = response_text(content_type, b"".join(seen))
        report_personal_data(where="body", path=path, view=view, text=text, allowed=allowed)
