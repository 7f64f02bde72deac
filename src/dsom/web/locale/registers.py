"""The registers' pages (web/registers.py): their Ukrainian, and the Ukrainian of what the
registers service says about values (its messages are English, with field names, statuses
and kinds in them; `MESSAGES_UK` turns each kind of message into Ukrainian)."""

from __future__ import annotations

UK: dict[str, str] = {
    # the registers
    "Your organizer's entries in the registers the regulator keeps. Only the regulator changes "
    "them; tell it if something is wrong.": "Записи вашого організатора в реєстрах, які веде "
    "регулятор. Змінює їх лише регулятор; якщо щось не так, повідомте його.",
    "The registers of organizers, licences and their channels, with the history of every "
    "change.": "Реєстри організаторів, ліцензій та їхніх каналів з історією кожної зміни.",
    "Search in every register": "Пошук у всіх реєстрах",
    "EDRPOU, licence number, domain, name…": "ЄДРПОУ, номер ліцензії, домен, назва…",
    "Register": "Реєстр",
    "Entries": "Записи",
    "By status": "За статусом",
    "no entries": "записів немає",
    "There is no such register.": "Такого реєстру немає.",
    "The register has no entry {key}.": "У реєстрі немає запису {key}.",
    # a register's list
    "You are here": "Ви тут",
    "The register as it was recorded at": "Реєстр у стані на",
    "Kyiv time": "за київським часом",
    "Show the current state": "Показати поточний стан",
    "New entry": "Новий запис",
    "Import from CSV": "Імпорт із CSV",
    "Download what is shown": "Завантажити показане",
    "Download the register": "Завантажити реєстр",
    "Text": "Текст",
    "a code, number, name…": "код, номер, назва…",
    "any": "будь-який",
    "As of (Kyiv time)": "Стан на (київський час)",
    "Show": "Показати",
    "Clear": "Скинути",
    "Change the order": "Змінити порядок",
    "Previous": "Попередня",
    "Next": "Наступна",
    "Page": "Сторінка",
    "No entries match these filters.": "Жоден запис не відповідає цим умовам.",
    "Show all entries": "Показати всі записи",
    "This register has no entries yet.": "У цьому реєстрі ще немає записів.",
    "Give a date, or a date and time: 2026-01-31 or 2026-01-31 14:00.": "Вкажіть дату або "
    "дату й час: 2026-01-31 чи 2026-01-31 14:00.",
    "YYYY-MM-DD": "РРРР-ММ-ДД",
    "YYYY-MM-DD HH:MM": "РРРР-ММ-ДД ГГ:ХХ",
    # an entry
    "The entry as it was recorded at": "Запис у стані на",
    "Edit": "Змінити",
    "Version": "Версія",
    "This entry was not in the register yet at that moment.": "На той момент цього запису в "
    "реєстрі ще не було.",
    "Entries that refer to this one": "Записи, що посилаються на цей",
    "History": "Історія",
    "Every version ever recorded, newest first. Nothing is deleted.": "Усі версії запису, "
    "найновіша перша. Нічого не видаляється.",
    "Recorded (Kyiv time)": "Внесено (київський час)",
    "Action": "Дія",
    "By": "Хто",
    "Grounds": "Підстава",
    "What changed": "Що змінено",
    "Show the entry as of this version": "Показати запис у стані цієї версії",
    "Decision": "Рішення",
    "First version": "Перша версія",
    "no change of values": "значення не змінювалися",
    "Entry created": "Створення запису",
    "Changed": "Зміна",
    "Status changed": "Зміна статусу",
    "Imported from a file": "Імпорт із файлу",
    "API token": "токен API",
    "system": "система",
    "access key": "ключ доступу",
    "The entry was recorded.": "Запис внесено до реєстру.",
    "The changes were saved; the previous version is kept in the history.": "Зміни збережено; "
    "попередня версія залишається в історії.",
    "Nothing was changed: the values you sent are those the entry has.": "Нічого не змінено: "
    "надіслані значення збігаються з чинними.",
    "The status was changed.": "Статус змінено.",
    # status
    "Activate or suspend the organizer": "Активувати або зупинити організатора",
    "Change the status": "Змінити статус",
    "Status now": "Поточний статус",
    "While an organizer is not active, DSOM refuses the data its systems submit.": "Доки "
    "організатор не активний, DSOM не приймає дані, які надсилають його системи.",
    "New status": "Новий статус",
    "This status is final: no change is allowed from it.": "Цей статус остаточний: змінити "
    "його не можна.",
    "Activate": "Активувати",
    "Suspend": "Зупинити",
    "Revoke": "Анулювати",
    "Mark as expired": "Позначити як такий, що закінчився",
    "Make inactive": "Припинити дію",
    "Return to pending": "Повернути до очікування",
    # forms
    "Change": "Зміна",
    "The entry's current version stays in its history; the change is recorded with its "
    "grounds, your name and the time.": "Чинна версія запису залишиться в історії; зміну буде "
    "внесено з підставою, вашим іменем і часом.",
    "Nothing was saved: correct what is marked below.": "Нічого не збережено: виправте "
    "позначене нижче.",
    "The identifier is assigned by DSOM when the entry is recorded.": "Ідентифікатор "
    "присвоює DSOM під час внесення запису.",
    "Fields marked * are required.": "Поля, позначені *, обов'язкові.",
    "required": "обов'язкове поле",
    "— choose —": "— оберіть —",
    "cannot be changed": "не змінюється",
    "A new entry starts with the status": "Новий запис отримує статус",
    "the status is changed later on the entry's page.": "статус змінюють потім на сторінці запису.",
    "Save the changes": "Зберегти зміни",
    "Record the entry": "Внести запис",
    "Cancel": "Скасувати",
    "Grounds of the change": "Підстава зміни",
    "A decision number, a reason, or both: they are kept in the history.": "Номер рішення, "
    "причина або обидва: їх буде збережено в історії.",
    "Decision number": "Номер рішення",
    "Reason": "Причина",
    "Choose the organizer first": "Спершу оберіть організатора",
    "This organizer has no entries to choose from here": "У цього організатора немає записів, "
    "які можна тут обрати",
    "8 digits, the last a check digit": "8 цифр, остання — контрольна",
    "10 digits, the last a check digit": "10 цифр, остання — контрольна",
    "Someone changed this entry after you opened the form. Open the entry again to see the "
    "change, then make yours.": "Хтось змінив цей запис після того, як ви відкрили форму. "
    "Відкрийте запис знову, перегляньте зміну і тоді внесіть свою.",
    "Someone changed this entry at the same moment. Open the entry again to see the change, "
    "then make yours.": "Хтось змінив цей запис одночасно з вами. Відкрийте запис знову, "
    "перегляньте зміну і тоді внесіть свою.",
    # help of the declarations' fields
    "the person who may register the organizer with DSOM": "особа, яка може зареєструвати "
    "організатора в DSOM",
    "the last day of validity": "останній день дії",
    "letters, digits and . / _ - (up to 64)": "літери, цифри та . / _ - (до 64 символів)",
    "a store identifier such as ua.example.casino": "ідентифікатор у магазині застосунків, "
    "напр. ua.example.casino",
    "must be an e-mail address": "має бути адресою електронної пошти",
    "must be a phone number like +380441234567": "має бути номером телефону у форматі "
    "+380441234567",
    "must be a lower-case domain name such as example.com.ua (no scheme, no path)": "має бути "
    "доменним ім'ям малими літерами, напр. example.com.ua (без http:// і шляху)",
    # import
    "A file is imported whole or not at all: if any line has an error, nothing is recorded and "
    "every bad line is listed.": "Файл імпортується повністю або не імпортується зовсім: якщо "
    "хоч один рядок має помилку, нічого не вноситься, а всі рядки з помилками буде перелічено.",
    "UTF-8 text, values separated by commas, the first line the column names.": "Текст у "
    "кодуванні UTF-8, значення розділені комами, перший рядок — назви стовпців.",
    "A line whose key is already in the register changes that entry; any other line records a "
    "new one.": "Рядок, ключ якого вже є в реєстрі, змінює цей запис; будь-який інший рядок "
    "вносить новий.",
    "Leave the identifier empty to have DSOM assign one.": "Залиште ідентифікатор порожнім, "
    "щоб DSOM присвоїла його сама.",
    "Dates as YYYY-MM-DD; fixed values by their code (see the columns below).": "Дати у "
    "форматі РРРР-ММ-ДД; значення з переліку — їхнім кодом (див. стовпці нижче).",
    "The register's own export is a file of this form:": "Експорт реєстру — файл саме такого "
    "вигляду:",
    "download it as a model": "завантажте його як зразок",
    "Columns of the file": "Стовпці файлу",
    "Column": "Стовпець",
    "Field": "Поле",
    "Required": "Обов'язковий",
    "Values": "Значення",
    "no: assigned by DSOM": "ні: присвоює DSOM",
    "no: a new entry starts as": "ні: новий запис отримує статус",
    "yes": "так",
    "no": "ні",
    "The file was imported.": "Файл імпортовано.",
    "New entries": "Нових записів",
    "changed": "змінено",
    "unchanged": "без змін",
    "Open the register": "Відкрити реєстр",
    "Nothing of the file was imported.": "Жодного рядка файлу не імпортовано.",
    "Lines with errors": "Рядків із помилками",
    "Correct them and import the whole file again.": "Виправте їх та імпортуйте весь файл знову.",
    "Line": "Рядок",
    "What is wrong": "Що не так",
    "CSV file": "Файл CSV",
    "Choose the corrected file again.": "Оберіть виправлений файл ще раз.",
    "Import the file": "Імпортувати файл",
    "Choose a CSV file.": "Оберіть файл CSV.",
    "The file is larger than 20 MB; split it.": "Файл більший за 20 МБ; розділіть його.",
    "The file is not UTF-8 text; save it as CSV UTF-8.": "Файл не в кодуванні UTF-8; "
    "збережіть його як «CSV UTF-8».",
    # search
    "Search the registers": "Пошук у реєстрах",
    "Words, codes or numbers": "Слова, коди або номери",
    "Found in": "Знайдено в",
    "What it is": "Що це",
    "All matching entries of this register": "Усі знайдені записи цього реєстру",
    "Nothing was found. Check the spelling, or search for a part of the word or code.": (
        "Нічого не знайдено. Перевірте написання або шукайте за частиною слова чи коду."
    ),
    "What is searched": "У яких полях шукаємо",
    # the audit log's names of register changes
    "register.created": "Внесено запис до реєстру",
    "register.updated": "Змінено запис реєстру",
    "register.status_changed": "Змінено статус запису реєстру",
    "register.imported": "Імпортовано файл до реєстру",
}

EN: dict[str, str] = {
    "register.created": "Register entry created",
    "register.updated": "Register entry changed",
    "register.status_changed": "Register entry's status changed",
    "register.imported": "File imported into a register",
}

# What an entry of each register is called (Register.entry), in Ukrainian.
ENTRIES_UK: dict[str, str] = {
    "organizer": "організатор",
    "licence": "ліцензія",
    "gambling establishment": "гральний заклад",
    "piece of gaming equipment": "одиниця грального обладнання",
    "website": "веб-сайт",
    "mobile application": "мобільний застосунок",
}

# The registers service's messages (a regular expression of the whole English message) and
# their Ukrainian; the named parts are put in, each word by its label where it has one.
MESSAGES_UK: tuple[tuple[str, str], ...] = (
    (r"is required", "обов'язкове поле"),
    (r"must be text", "має бути текстом"),
    (r"must not be empty", "не може бути порожнім"),
    (r"must have at least (?P<n>\d+) characters", "має містити щонайменше {n} символ(ів)"),
    (
        r"must have at most (?P<n>\d+) characters, has (?P<m>\d+)",
        "має містити не більше {n} символів, а містить {m}",
    ),
    (r"must have at most (?P<n>\d+) characters", "має містити не більше {n} символів"),
    (r"must match (?P<p>.+)", "має відповідати шаблону {p}"),
    (
        r"must be one of (?P<values>.+); got (?P<got>.*)",
        "має бути одним із: {values}; отримано {got}",
    ),
    (r"an EDRPOU code is 8 digits; got (?P<got>.*)", "код ЄДРПОУ — це 8 цифр; отримано {got}"),
    (
        r"(?P<code>.+) is not a valid EDRPOU code: its check digit does not match",
        "{code} — неправильний код ЄДРПОУ: не збігається контрольна цифра",
    ),
    (r"an RNOKPP is 10 digits; got (?P<got>.*)", "РНОКПП — це 10 цифр; отримано {got}"),
    (
        r"(?P<code>.+) is not a valid RNOKPP: its check digit does not match",
        "{code} — неправильний РНОКПП: не збігається контрольна цифра",
    ),
    (
        r"must be a date YYYY-MM-DD; got (?P<got>.*)",
        "має бути датою у форматі РРРР-ММ-ДД; отримано {got}",
    ),
    (r"must be an e-mail address", "має бути адресою електронної пошти"),
    (
        r"must be a phone number like \+380441234567",
        "має бути номером телефону у форматі +380441234567",
    ),
    (
        r"must be a lower-case domain name such as example.com.ua \(no scheme, no path\)",
        "має бути доменним ім'ям малими літерами, напр. example.com.ua (без http:// і шляху)",
    ),
    (r"letters, digits and \. / _ - \(up to 64\)", "лише літери, цифри та . / _ - (до 64)"),
    (
        r"a store identifier such as ua\.example\.casino",
        "має бути ідентифікатором у магазині застосунків, напр. ua.example.casino",
    ),
    (r"is not a field of the (?P<reg>\S+) register", "такого поля в реєстрі немає"),
    (
        r"is changed by the status action, with its grounds",
        "статус змінюють окремою дією, з підставою",
    ),
    (r"cannot go from (?P<a>\S+) to (?P<b>\S+)", "статус «{a}» не можна змінити на «{b}»"),
    (r"cannot be changed once recorded", "після внесення не змінюється"),
    (
        r"there is no (?P<entry>.+) (?P<key>\S+) in the register",
        "у реєстрі немає запису {key} ({entry})",
    ),
    (
        r"(?P<entry>.+) (?P<key>\S+) belongs to organizer (?P<a>\S+), not (?P<b>\S+)",
        "{entry} {key} належить організатору {a}, а не {b}",
    ),
    (
        r"(?P<what>.+) is already registered as (?P<other>\S+)",
        "{what}: вже зареєстровано як {other}",
    ),
    (r"is already in the register", "такий запис уже є в реєстрі"),
    (
        r"give a decision number or a reason for the change",
        "вкажіть номер рішення або причину зміни",
    ),
    (
        r"must not be before valid_from \((?P<d>[-\d]+)\)",
        "не може бути раніше дати початку дії ({d})",
    ),
    (
        r"licence (?P<n>\S+) is for (?P<a>\S+), an online activity: an establishment needs a "
        r"land-based licence",
        "ліцензія {n} видана на «{a}» — онлайн-діяльність; гральному закладу потрібна ліцензія "
        "на діяльність у закладі",
    ),
    (
        r"licence (?P<n>\S+) \((?P<a>\S+)\) is carried on in a (?P<k>\S+), not a (?P<k2>\S+)",
        "діяльність за ліцензією {n} («{a}») провадиться в закладі виду «{k}», а не «{k2}»",
    ),
    (r"a (?P<k>\S+) may hold only (?P<list>.+)", "у закладі виду «{k}» може бути лише: {list}"),
    (
        r"licence (?P<n>\S+) is for (?P<a>\S+), a land-based activity: a website or app needs "
        r"an online licence",
        "ліцензія {n} видана на «{a}» — діяльність у закладі; веб-сайту чи застосунку потрібна "
        "ліцензія на онлайн-діяльність",
    ),
    (r"unknown columns (?P<list>.+)", "невідомі стовпці: {list}"),
    (r"the key column (?P<k>\S+) is missing", "немає стовпця ключа {k}"),
    (r"columns given twice (?P<list>.+)", "стовпці повторюються: {list}"),
    (
        r"has (?P<n>\d+) values, the header has (?P<m>\d+)",
        "містить {n} значень, а заголовок — {m}",
    ),
    (
        r"(?P<k>\S+) (?P<key>.+) appears again \(first on line (?P<line>\d+)\)",
        "{key} повторюється (уперше в рядку {line})",
    ),
    (r"the file is empty: no header row", "файл порожній: немає рядка заголовків"),
    (r"must be a date or instant", "має бути датою або моментом часу"),
)
