"""The pages' two languages: Ukrainian (the default) and English.

Templates write English and call `t("...")`; Ukrainian comes from `UK` below. A test
checks that every string a template passes to `t` has its Ukrainian here, so a page
never shows half its words in another language.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from fastapi import Request

from dsom.web import locale

LANGUAGES = ("uk", "en")
DEFAULT = "uk"
COOKIE = "dsom_lang"

UK: dict[str, str] = {
    # frame
    "State Online Gambling Monitoring System": (
        "Державна система онлайн-моніторингу азартних ігор"
    ),
    "Skip to content": "Перейти до змісту",
    "Log out": "Вийти",
    "Language": "Мова",
    "Home": "Головна",
    "Menu": "Меню",
    # offices
    "Regulator's office": "Кабінет регулятора",
    "Tax Service office": "Кабінет Податкової служби",
    "Organizer's office": "Кабінет організатора",
    # roles
    "regulator": "посадова особа регулятора",
    "regulator_admin": "адміністратор регулятора",
    "tax": "посадова особа ДПС",
    "organizer_head": "керівник організатора",
    "organizer_representative": "представник організатора",
    # navigation
    "Registers": "Реєстри",
    "Search": "Пошук",
    "Audit log": "Журнал аудиту",
    "Officials": "Посадові особи",
    "Reports": "Звіти",
    "Representatives": "Представники",
    "Access keys": "Ключі доступу",
    "Data submission": "Передавання даних",
    "Our registers": "Наші записи в реєстрах",
    "Coming with the reports": "З'явиться разом зі звітами",
    # login
    "Log in": "Увійти",
    "Log in with your qualified electronic signature": (
        "Вхід за кваліфікованим електронним підписом"
    ),
    "Key file": "Файл ключа",
    "Password": "Пароль",
    "Your key file (.p12, .pfx) stays on this computer: the page signs here, in your browser, "
    "and sends only the signature.": "Ваш файл ключа (.p12, .pfx) залишається на цьому "
    "комп'ютері: сторінка підписує тут, у браузері, і надсилає лише підпис.",
    "Reading the key…": "Зчитування ключа…",
    "Signing…": "Підписання…",
    "Checking the signature…": "Перевірка підпису…",
    "Choose your key file.": "Оберіть файл ключа.",
    "Type the key file's password.": "Введіть пароль до файлу ключа.",
    "Certificate": "Сертифікат",
    "Issued by": "Видав",
    "Valid until": "Дійсний до",
    "Demo key files": "Демонстраційні файли ключів",
    "You were logged out.": "Ви вийшли із системи.",
    "Your session has ended; log in again.": "Сеанс завершено; увійдіть знову.",
    # login errors (codes of interfaces.md and of the browser signer)
    "bad_signature": "Підпис не пройшов перевірку.",
    "untrusted_certificate": "Сертифікат видано не довіреним центром сертифікації.",
    "certificate_expired": "Строк дії сертифіката минув (або ще не настав).",
    "certificate_revoked": "Сертифікат відкликано.",
    "challenge_expired": "Час на вхід минув; спробуйте ще раз.",
    "challenge_used": "Цей запит на вхід уже використано; спробуйте ще раз.",
    "unknown_person": "Особу з цим сертифікатом не зареєстровано в DSOM.",
    "rate_limited": "Забагато спроб входу з цієї адреси; зачекайте хвилину й спробуйте ще раз.",
    "not_a_key_file": "Це не файл ключа PKCS#12 (.p12, .pfx).",
    "wrong_password": "Неправильний пароль до файлу ключа.",
    "unsupported_key_file": "Браузер не може відкрити цей файл ключа; експортуйте його "
    "з шифруванням AES-256.",
    "no_private_key": "У файлі немає особистого ключа.",
    "no_certificate": "У файлі немає сертифіката до ключа.",
    "unsupported_key": "Ключ цього типу не може підписувати тут (можуть RSA та ECDSA).",
    "insecure_page": "Браузер підписує лише на сторінках HTTPS (або з цього комп'ютера).",
    "The login failed; try again.": "Не вдалося увійти; спробуйте ще раз.",
    # home
    "Welcome": "Вітаємо",
    "You are logged in as": "Ви увійшли як",
    "acting for": "від імені",
    "Your functions": "Ваші функції",
    "Session ends": "Сеанс завершиться",
    # errors
    "Page not found": "Сторінку не знайдено",
    "You do not have the right to see this page.": "У вас немає права бачити цю сторінку.",
    "Access denied": "Доступ заборонено",
    "Back to the home page": "На головну",
    "Something went wrong": "Щось пішло не так",
}


# Keys that are codes or words of the protocol rather than English text.
EN: dict[str, str] = {
    "regulator": "regulator official",
    "regulator_admin": "regulator administrator",
    "tax": "tax official",
    "organizer_head": "organizer head",
    "organizer_representative": "organizer representative",
    "bad_signature": "The signature did not verify.",
    "untrusted_certificate": "The certificate was not issued by a trusted certification authority.",
    "certificate_expired": "The certificate has expired (or is not valid yet).",
    "certificate_revoked": "The certificate has been revoked.",
    "challenge_expired": "The time to log in ran out; try again.",
    "challenge_used": "This login request was used already; try again.",
    "unknown_person": "No one with this certificate is registered with DSOM.",
    "rate_limited": "Too many login attempts from this address; wait a minute and try again.",
    "not_a_key_file": "This file is not a PKCS#12 key file (.p12, .pfx).",
    "wrong_password": "Wrong password for this key file.",
    "unsupported_key_file": "This browser cannot open this key file; export it again with "
    "AES-256 encryption.",
    "no_private_key": "This key file holds no private key.",
    "no_certificate": "This key file holds no certificate for its key.",
    "unsupported_key": "A key of this kind cannot sign here (RSA and ECDSA can).",
    "insecure_page": "Browsers sign only on pages served over HTTPS (or from this computer).",
}


def _merge_locale_modules() -> None:
    for module in pkgutil.iter_modules(locale.__path__):
        loaded = importlib.import_module(f"{locale.__name__}.{module.name}")
        UK.update(getattr(loaded, "UK", {}))
        EN.update(getattr(loaded, "EN", {}))


_merge_locale_modules()

Translate = Callable[[str], str]


def translator(lang: str) -> Translate:
    """`t(text)`: the text in `lang` (for English, the key itself unless EN says otherwise)."""
    if lang == "en":
        return lambda text: EN.get(text, text)
    return lambda text: UK.get(text, text)


def language_of(request: Request) -> str:
    """The page language: `?lang=`, else the cookie, else Ukrainian."""
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE) or DEFAULT
    return asked if asked in LANGUAGES else DEFAULT
