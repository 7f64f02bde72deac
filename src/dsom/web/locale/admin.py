"""The regulator's administration: the audit log and officials (web/admin.py)."""

from __future__ import annotations

UK: dict[str, str] = {
    # the audit log
    "Every login and every change made in DSOM's offices: who, when, what, and from which "
    "address. Times are Kyiv time.": "Кожен вхід і кожна зміна в кабінетах DSOM: хто, коли, що "
    "і з якої адреси. Час — київський.",
    "Who": "Хто",
    "name or RNOKPP": "ім'я або РНОКПП",
    "Action": "Дія",
    "All actions": "Усі дії",
    "From": "З",
    "To (inclusive)": "По (включно)",
    "Organizer (EDRPOU)": "Організатор (ЄДРПОУ)",
    "Show": "Показати",
    "Clear filters": "Скинути фільтри",
    "Entries {first}–{last} of {total}": "Записи {first}–{last} із {total}",
    "When": "Коли",
    "Target": "Об'єкт",
    "Details": "Подробиці",
    "IP address": "IP-адреса",
    "organizer": "організатор",
    "Pages": "Сторінки",
    "Newer": "Новіші",
    "Older": "Старіші",
    "Page {page} of {pages}": "Сторінка {page} із {pages}",
    "No entry matches these filters.": "Жоден запис не відповідає цим фільтрам.",
    "There are no entries on this page.": "На цій сторінці записів немає.",
    "To the newest entries": "До найновіших записів",
    "The audit log is empty.": "Журнал аудиту порожній.",
    "Not a date: use the calendar or YYYY-MM-DD.": "Це не дата: оберіть її в календарі або "
    "введіть у форматі РРРР-ММ-ДД.",
    "An EDRPOU code is 8 digits.": "Код ЄДРПОУ — це 8 цифр із правильною контрольною цифрою.",
    "show": "показати",
    # the audit log's details
    "detail:person": "ід. особи",
    "detail:rights": "права",
    "detail:before": "було",
    "detail:after": "стало",
    "detail:role": "роль",
    "detail:session": "сеанс",
    "detail:certificate": "сертифікат",
    "detail:sessions_ended": "завершено сеансів",
    "detail:name": "ім'я чи назва",
    "detail:head": "керівник",
    "detail:code": "код",
    "detail:message": "повідомлення",
    # a representative's rights, as the audit log's details name them
    "registers:read-own": "переглядати записи організатора в реєстрах",
    "keys:manage": "керувати ключами доступу",
    "reports:own": "переглядати звіти організатора",
    # audit actions
    "auth.login": "Вхід до системи",
    "auth.login_failed": "Відмова у вході",
    "auth.logout": "Вихід із системи",
    "organizer.registered": "Організатора зареєстровано в DSOM",
    "head.added": "Додано керівника організатора",
    "representative.added": "Додано представника",
    "representative.rights_changed": "Змінено права представника",
    "representative.removed": "Видалено представника",
    "official.added": "Додано посадову особу",
    "official.removed": "Видалено посадову особу",
    "key.created": "Створено ключ доступу",
    "key.deactivated": "Деактивовано ключ доступу",
    # officials
    "The regulator's and the State Tax Service's officials who may log in to DSOM. A removed "
    "official is logged out at once.": "Посадові особи регулятора та Державної податкової "
    "служби, які можуть входити до DSOM. Сеанси видаленої посадової особи завершуються одразу.",
    "Role": "Роль",
    "Add an official": "Додати посадову особу",
    "Add official": "Додати посадову особу",
    "Remove {name} ({role})? They are logged out at once and can no longer log in.": (
        "Видалити особу {name} ({role})? Її сеанси буде завершено одразу, і вона більше не "
        "зможе увійти."
    ),
    "They log in with their own qualified electronic signature, whose certificate names their "
    "RNOKPP. The name in the certificate replaces the one typed here.": "Посадова особа входить "
    "зі своїм кваліфікованим електронним підписом, сертифікат якого містить її РНОКПП. Ім'я із "
    "сертифіката замінить введене тут.",
    "Choose the official's role.": "Оберіть роль посадової особи.",
    "This person is already an official.": "Ця особа вже є посадовою особою.",
    "{name} was added as {role}.": "Додано: {name}, {role}.",
    "role:regulator": "веде реєстри, бачить усі звіти та журнал аудиту",
    "role:regulator_admin": "те саме, а також додає та видаляє посадових осіб",
    "role:tax": "переглядає реєстри та фінансові звіти",
}

# Codes and words that are not English text: the actions of the audit log, roles' duties.
EN: dict[str, str] = {
    "auth.login": "Logged in",
    "auth.login_failed": "Login refused",
    "auth.logout": "Logged out",
    "organizer.registered": "Organizer registered with DSOM",
    "head.added": "Organizer's head added",
    "representative.added": "Representative added",
    "representative.rights_changed": "Representative's rights changed",
    "representative.removed": "Representative removed",
    "official.added": "Official added",
    "official.removed": "Official removed",
    "key.created": "Access key created",
    "key.deactivated": "Access key deactivated",
    "registers:read-own": "see our registers entries",
    "keys:manage": "manage access keys",
    "reports:own": "see our reports",
    "detail:person": "person id",
    "detail:rights": "rights",
    "detail:before": "before",
    "detail:after": "after",
    "detail:role": "role",
    "detail:session": "session",
    "detail:certificate": "certificate",
    "detail:sessions_ended": "sessions ended",
    "detail:name": "name",
    "detail:head": "head",
    "detail:code": "code",
    "detail:message": "message",
    "role:regulator": "keeps the registers, sees every report and the audit log",
    "role:regulator_admin": "the same, and adds and removes officials",
    "role:tax": "reads the registers and the financial reports",
}
