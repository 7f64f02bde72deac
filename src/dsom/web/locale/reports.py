"""The reports' pages and the home dashboards (web/reports.py, web/dashboards.py). The
reports' titles, descriptions and column labels are in both languages in their
declarations (reports/declarations.py)."""

from __future__ import annotations

UK: dict[str, str] = {
    # the list
    "Each report shows only your organizer's data.": "Кожен звіт показує лише дані вашого "
    "організатора.",
    "Each report covers every organizer; filter by organizer and type of gambling on its page.": (
        "Кожен звіт охоплює всіх організаторів; на його сторінці можна вибрати організатора "
        "і вид азартних ігор."
    ),
    "Choose a period, by hour, day or month, and download what you see as CSV or Excel.": (
        "Оберіть період, погодинно, подобово чи помісячно, і завантажте побачене у форматі "
        "CSV або Excel."
    ),
    "live": "наживо",
    "The figures refresh by themselves": "Показники оновлюються самі",
    # a report's filters
    "Only your organizer's data.": "Лише дані вашого організатора.",
    "First day": "Перший день",
    "Last day": "Останній день",
    "At the end of the day": "На кінець дня",
    "Periods": "Періоди",
    "by hour": "погодинно",
    "by day": "подобово",
    "by month": "помісячно",
    "Organizer": "Організатор",
    "every organizer": "усі організатори",
    "EDRPOU code": "код ЄДРПОУ",
    "Type of gambling": "Вид азартних ігор",
    "every type": "усі види",
    "Wins from, UAH": "Виграші від, грн",
    "Reset": "Скинути",
    "The last day is before the first.": "Останній день раніше за перший.",
    "Choose hours, days or months.": "Оберіть години, дні або місяці.",
    "Choose a type of gambling from the list.": "Оберіть вид азартних ігор зі списку.",
    "A sum in hryvnias, such as 50000 or 50000.50.": "Сума в гривнях, наприклад 50000 або "
    "50000,50.",
    "At least {sum} UAH: smaller wins are not kept for this report.": "Щонайменше {sum} грн: "
    "менші виграші для цього звіту не зберігаються.",
    # a report's results
    "These filters cannot be shown:": "За цими умовами звіт не сформувати:",
    "At the end of {day}": "На кінець {day}",
    "Now": "Зараз",
    "updated": "оновлено",
    "Download": "Завантажити",
    "Nothing to show for these filters.": "За цими умовами нічого немає.",
    "Try a longer period or fewer filters.": "Спробуйте довший період або менше умов.",
    "There is nothing here yet.": "Тут поки нічого немає.",
    "Chart": "Діаграма",
    "The first {shown} of {total} rows are shown; download the file for all of them.": (
        "Показано перші {shown} з {total} рядків; усі рядки є у файлі."
    ),
    "Total": "Разом",
    "Rows": "Рядків",
    "Sums are in hryvnias; the files have them in kopiyky.": "Суми — у гривнях; у файлах — "
    "у копійках.",
    "UAH": "грн",
    "B": "Б",
    "KB": "КБ",
    "MB": "МБ",
    "GB": "ГБ",
    "{d} d {h} h": "{d} дн. {h} год",
    "{h} h {m} min": "{h} год {m} хв",
    "{m} min {s} s": "{m} хв {s} с",
    # the home dashboards
    "At a glance": "Коротко",
    "Today": "Сьогодні",
    "This month": "Цього місяця",
    "Stakes": "Ставки",
    "Payouts": "Виплати виграшів",
    "GGR": "Валовий ігровий дохід",
    "stakes − refunds − payouts": "ставки − повернення − виграші",
    "Operations per second": "Операцій за секунду",
    "accepted in the last minute ÷ 60": "прийнято за останню хвилину ÷ 60",
    "Organizers silent": "Організатори мовчать",
    "Organizers degraded": "Організатори з помилками",
    "Tax on winnings": "Податок з виграшів",
    "to withhold from winnings": "утримати з виграшів",
    "Personal income tax": "ПДФО",
    "Military levy": "Військовий збір",
    "Organizers to look at": "Організатори, на яких варто звернути увагу",
    "and {n} more": "і ще {n}",
    "Submission health": "Стан передавання даних",
    "Every organizer with an online licence is sending data, and none has many rejections "
    "today.": "Усі організатори з онлайн-ліцензіями надсилають дані, і жоден не має сьогодні "
    "багато відхилених операцій.",
    "Submission status": "Стан передавання даних",
    "status:ok": "норма",
    "status:silent": "мовчить",
    "status:degraded": "з помилками",
    "status-help:ok": "дані надходять, відхилених сьогодні не більше 5 %",
    "status-help:silent": "від вашої системи нічого не надходило понад годину, хоча діє "
    "онлайн-ліцензія",
    "status-help:degraded": "сьогодні відхилено понад 5 % отриманих операцій",
    "GGR by day, the last 30 days": "Валовий ігровий дохід за днями, останні 30 днів",
    "Tax on winnings by day, this month": "Податок з виграшів за днями, цей місяць",
    "No operation yet in this period.": "За цей період операцій ще немає.",
    "Open the report": "Відкрити звіт",
}

# Keys that are codes rather than English text.
EN: dict[str, str] = {
    "status:ok": "OK",
    "status:silent": "silent",
    "status:degraded": "degraded",
    "status-help:ok": "data arrives, and no more than 5 % was rejected today",
    "status-help:silent": "nothing has arrived from your system for over an hour while an "
    "online licence is in force",
    "status-help:degraded": "over 5 % of the operations received today were rejected",
}
