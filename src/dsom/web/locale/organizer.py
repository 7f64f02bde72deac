"""The organizer's office: representatives, access keys, data submission (web/organizer.py)."""

from __future__ import annotations

UK: dict[str, str] = {
    # shared words of the tables and forms
    "Name": "Назва",
    "Full name": "Прізвище, ім'я, по батькові",
    "RNOKPP": "РНОКПП",
    "Rights": "Права",
    "Added": "Додано",
    "Last login": "Останній вхід",
    "Actions": "Дії",
    "Status": "Стан",
    "Remove": "Видалити",
    "you": "ви",
    "not yet": "ще не входив(-ла)",
    "never": "ще не використовувався",
    "in use": "діє",
    "Person": "Особа",
    "deactivated": "деактивовано",
    "the person's 10-digit taxpayer number": "реєстраційний номер облікової картки платника "
    "податків, 10 цифр",
    "An RNOKPP is 10 digits.": "РНОКПП складається з 10 цифр.",
    "The last digit does not match the others: check the number.": (
        "Контрольна (остання) цифра не відповідає іншим: перевірте номер."
    ),
    "Type the person's name.": "Введіть прізвище, ім'я та по батькові.",
    "{name} was removed and logged out.": "Особу {name} видалено, її сеанси завершено.",
    "the API documentation": "документація API",
    # representatives
    "The people who act for your organizer in DSOM, and what each of them may do. A change is "
    "in force at once.": "Особи, які діють у DSOM від імені вашого організатора, і що кожна з "
    "них може робити. Зміни діють одразу.",
    "head": "керівник",
    "Every right of the organizer": "Усі права організатора",
    "Rights of": "Права:",
    "Save rights": "Зберегти права",
    "not saved yet": "ще не збережено",
    "See our registers entries": "Переглядати записи організатора в реєстрах",
    "Manage access keys": "Керувати ключами доступу",
    "See our reports": "Переглядати звіти організатора",
    "Remove {name}? They are logged out at once and can no longer act for your organizer.": (
        "Видалити особу {name}? Її сеанси буде завершено одразу, і вона більше не зможе діяти "
        "від імені вашого організатора."
    ),
    "You have not added any representatives yet. A representative is someone who works in DSOM "
    "for your organizer, with the rights you choose.": "Ви ще не додали жодного представника. "
    "Представник працює в DSOM від імені вашого організатора з правами, які ви оберете.",
    "Add a representative": "Додати представника",
    "Add representative": "Додати представника",
    "They log in with their own qualified electronic signature: a certificate issued for your "
    "company, with their RNOKPP and your EDRPOU code. The name in the certificate replaces the "
    "one typed here.": "Представник входить зі своїм кваліфікованим електронним підписом: "
    "сертифікатом, виданим для вашої компанії, з його РНОКПП і вашим кодом ЄДРПОУ. Ім'я із "
    "сертифіката замінить введене тут.",
    "This person already acts for your organizer.": "Ця особа вже діє від імені вашого "
    "організатора.",
    "Choose rights from the list.": "Оберіть права зі списку.",
    "{name} was added as a representative.": "Представника {name} додано.",
    "The rights of {name} were saved.": "Права особи {name} збережено.",
    # access keys
    "Your organizer's systems send their operations to DSOM with an access key. Create one key "
    "for each system, so that you can deactivate one without stopping the others.": "Системи "
    "вашого організатора надсилають операції до DSOM із ключем доступу. Створюйте окремий ключ "
    "для кожної системи, щоб можна було деактивувати один, не зупиняючи інших.",
    "How a system sends operations with a key:": "Як система надсилає операції з ключем:",
    "key": "ключ",
    "The key “{name}” was created": "Ключ «{name}» створено",
    "Copy the key now and keep it safe: it will not be shown again.": (
        "Скопіюйте ключ зараз і збережіть його в надійному місці: більше його не буде показано."
    ),
    "DSOM keeps only a fingerprint of it and cannot show it to anyone, you included. If it is "
    "lost, deactivate it and create a new one.": "DSOM зберігає лише його відбиток і не може "
    "показати ключ нікому, зокрема вам. Якщо ключ втрачено, деактивуйте його та створіть новий.",
    "Copy": "Копіювати",
    "Copied": "Скопійовано",
    "Key id": "Ідентифікатор ключа",
    "Created": "Створено",
    "Created by": "Ким створено",
    "Last used": "Останнє використання",
    "Deactivate": "Деактивувати",
    "Deactivate the key “{name}” ({key})? Systems that use it are refused within a second. "
    "This cannot be undone.": "Деактивувати ключ «{name}» ({key})? Системам, які ним "
    "користуються, буде відмовлено протягом секунди. Цю дію не можна скасувати.",
    "Your organizer has no access keys yet. Create one below to start sending data.": (
        "У вашого організатора ще немає ключів доступу. Створіть ключ нижче, щоб почати "
        "передавати дані."
    ),
    "Create a key": "Створити ключ",
    "Create key": "Створити ключ",
    "which system will use it, e.g. “Online casino, production”": "яка система ним "
    "користуватиметься, напр. «Онлайн-казино, робоча система»",
    "Give the key a name of up to 200 characters.": "Дайте ключу назву (до 200 символів).",
    "The key {key} was deactivated.": "Ключ {key} деактивовано.",
    # data submission
    "What your organizer's systems have sent to DSOM, and which operations DSOM rejected and "
    "why.": "Що системи вашого організатора надіслали до DSOM і які операції DSOM відхилила та "
    "чому.",
    "Your organizer is not yet active in the organizers register: DSOM refuses its operations "
    "until the regulator activates it.": "Ваш організатор ще не активний у реєстрі "
    "організаторів: DSOM не прийматиме його операції, доки регулятор його не активує.",
    "Your organizer is suspended in the organizers register: DSOM refuses its operations until "
    "the regulator activates it again.": "Діяльність вашого організатора зупинено в реєстрі "
    "організаторів: DSOM не прийматиме його операції, доки регулятор знову його не активує.",
    "Your organizer has not sent any data to DSOM yet.": "Ваш організатор ще не надсилав "
    "даних до DSOM.",
    "Create an access key": "Створіть ключ доступу",
    "for the system that will send the data.": "для системи, яка надсилатиме дані.",
    "Ask your organizer's head for an access key for the system that will send the data.": (
        "Попросіть керівника організатора створити ключ доступу для системи, яка надсилатиме дані."
    ),
    "The system sends each bet, win, refund, deposit and withdrawal with the key to": "Система "
    "надсилає кожну ставку, виграш, повернення, поповнення та виведення коштів із ключем на",
    "This page then shows what arrived, within seconds.": "Ця сторінка покаже отримане за "
    "кілька секунд.",
    "Last request received": "Останній запит отримано",
    "Rejected today": "Відхилено сьогодні",
    "of": "із",
    "of received": "від отриманих",
    "What arrived": "Що отримано",
    "Figure": "Показник",
    "Today": "Сьогодні",
    "since 00:00": "з 00:00",
    "Last 24 hours": "Останні 24 години",
    "Requests": "Запити",
    "Operations received": "Операцій отримано",
    "accepted": "прийнято",
    "duplicates": "повтори",
    "sent again; stored once": "надіслані повторно; збережено один раз",
    "rejected": "відхилено",
    "Rejected operations in the last 7 days": "Відхилені операції за останні 7 днів",
    "No operation was rejected in the last 7 days.": "За останні 7 днів жодну операцію не "
    "відхилено.",
    "Code": "Код",
    "What it means": "Що це означає",
    "Rejected": "Відхилено",
    "By hour": "За годинами",
    "Hour received": "Година отримання",
    "All": "Усього",
    "Figures are by the hour DSOM received each request, in Kyiv time; the last 24 hours are "
    "this hour and the 23 before it. Your system also got every rejection in DSOM's answer, with "
    "the operation's index and a message.": "Показники — за годиною отримання запиту DSOM, за "
    "київським часом; останні 24 години — це поточна година і 23 попередні. Кожну відмову ваша "
    "система також отримала у відповіді DSOM, з індексом операції та поясненням.",
    "just now": "щойно",
    "{n} min ago": "{n} хв тому",
    "{n} h ago": "{n} год тому",
    "{n} days ago": "{n} дн. тому",
    # who made or changed a record, when it was not a person
    "organizers register (head's first login)": "реєстр організаторів (перший вхід керівника)",
    "DSOM demo market": "демонстраційний ринок DSOM",
    "DSOM command line": "командний рядок DSOM",
    "cli": "командний рядок DSOM",
    "anonymous": "невідома особа",
    # the home page's box
    "Details of data submission": "Докладніше про передавання даних",
    # rejection codes (protocol.md §2.2), explained
    "schema_violation": "Поле відсутнє, має неправильний тип чи формат, виходить за допустимі "
    "межі або не дозволене для цього типу операції.",
    "unsupported_currency": "Валюта операції не UAH.",
    "occurred_in_future": "Час операції більш ніж на 5 хвилин пізніший за момент, коли DSOM "
    "її отримала (перевірте годинник системи).",
    "reporting_window_closed": "Операцію здійснено більш ніж за 30 днів до її отримання: "
    "строк подання минув.",
    "unknown_license": "Ліцензії з таким номером у вашого організатора немає.",
    "license_inactive": "Ліцензія не була чинною на момент операції (зупинена, анульована, "
    "строк дії минув або ще не настав).",
    "game_type_not_licensed": "Вид азартної гри у ставці не той, на який видано ліцензію.",
    "unknown_channel": "Під цією ліцензією не зареєстровано вебсайту, мобільного застосунку, "
    "закладу чи обладнання з таким ідентифікатором.",
    "channel_inactive": "Канал (вебсайт, застосунок, заклад чи обладнання) не був активним на "
    "момент операції.",
    "unknown_bet": "Виграш або повернення посилається на ставку, якої DSOM від вашого "
    "організатора не приймала.",
    "bet_mismatch": "Ліцензія або гравець у виграші чи поверненні інші, ніж у ставці.",
    "refund_exceeds_stake": "Повернення за однією ставкою разом перевищили б її суму.",
    "duplicate_conflict": "Операцію з цим ідентифікатором уже прийнято раніше з іншим змістом.",
}

# The rejection codes, explained in English (the code itself is the key), and actors' words.
EN: dict[str, str] = {
    "cli": "DSOM command line",
    "schema_violation": "A field is missing, of the wrong type or format, out of its range, or "
    "not allowed for the operation's type.",
    "unsupported_currency": "The operation's currency is not UAH.",
    "occurred_in_future": "The operation's time is more than 5 minutes after DSOM received it "
    "(check the system's clock).",
    "reporting_window_closed": "The operation happened more than 30 days before DSOM received "
    "it: too late to report.",
    "unknown_license": "Your organizer has no licence with that number.",
    "license_inactive": "The licence was not in force when the operation happened (suspended, "
    "revoked, expired, or not yet valid).",
    "game_type_not_licensed": "The bet's type of gambling is not the one its licence is for.",
    "unknown_channel": "No website, mobile app, establishment or equipment with that id is "
    "registered under the licence.",
    "channel_inactive": "The channel (website, app, establishment or equipment) was not active "
    "when the operation happened.",
    "unknown_bet": "The win or refund names a bet DSOM did not accept from your organizer.",
    "bet_mismatch": "The win or refund has another licence or player than its bet.",
    "refund_exceeds_stake": "The refunds of one bet would add up to more than its stake.",
    "duplicate_conflict": "An operation with this id was accepted before with different content.",
}
