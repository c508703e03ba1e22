"""The README's configuration table against `eaglesense run --help`.

    config_table_test.py EAGLESENSE_BINARY README.md

A setting, in the help, is an option whose text names an environment variable: `[env VAR]` or
`[env VAR, default D]` at its end (src/cli/settings_flags.cpp writes it from src/core/config.cpp's
kSettings), or `(also VAR)` (--config, --region, the endpoints). Options without one (--hour,
--dry-run, --workers, ...) are the command's own and are not checked.

The table is the one under "## Configuration": one row per flag, columns environment | flag |
default | meaning. Checked:
  - every setting of the help has a row with its flag, whose first environment variable is the
    setting's and whose default is the help's (backticks dropped; an empty cell for no default);
  - every other variable of the row is one the help names for that option ("also VAR");
  - every row names exactly one flag, and that flag is in the help; no flag has two rows.
Exit 0 when they agree; 1 with one line per disagreement otherwise.
"""
import re
import subprocess
import sys

ENV_TAG = re.compile(r"\[env ([A-Z][A-Z0-9_]*)(?:, default (.*))?\]\s*$")
ALSO = re.compile(r"\balso ([A-Z][A-Z0-9_]+)")
CODE = re.compile(r"`([^`]*)`")
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def help_options(binary):
    """{flag: {"env", "default", "also"}} for every setting of `run --help`."""
    text = subprocess.run([binary, "run", "--help"], check=True, capture_output=True, text=True).stdout
    options, current = [], None
    for line in text.splitlines():
        m = re.match(r"^ {2}(-\S+)(?: \S+(?: \S+)*?)?(?: {2,}(.*))?$", line)
        if m:
            names = [n for n in m.group(1).split(",") if n.startswith("--")]
            current = {"flag": names[0] if names else m.group(1), "text": m.group(2) or ""}
            options.append(current)
        elif current is not None and line.startswith("   ") and line.strip():
            current["text"] = (current["text"] + " " + line.strip()).strip()
        elif not line.strip() or not line.startswith(" "):
            current = None
    settings = {}
    for opt in options:
        tag = ENV_TAG.search(opt["text"])
        also = ALSO.findall(opt["text"])
        if not tag and not also:
            continue
        env = tag.group(1) if tag else also[0]
        default = (tag.group(2) or "") if tag else ""
        settings[opt["flag"]] = {"env": env, "default": default.strip(),
                                 "also": [a for a in also if a != env]}
    return settings


def readme_rows(path):
    """[(line number, envs, flags, default)] of the table under "## Configuration"."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    rows, in_section, in_table = [], False, False
    for number, line in enumerate(lines, 1):
        if line.startswith("## "):
            if in_section:
                break
            in_section = line.strip() == "## Configuration"
            continue
        if not in_section:
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in CELL_SPLIT.split(line.strip().strip("|"))]
            if not in_table:  # the header row
                in_table = True
                if [c.lower() for c in cells[:3]] != ["environment", "flag", "default"]:
                    sys.exit(f"{path}:{number}: the configuration table's columns are not "
                             f"environment | flag | default | meaning: {line}")
                continue
            if set(line.replace("|", "").strip()) <= set("-: "):
                continue  # the separator row
            if len(cells) < 4:
                rows.append((number, [], [], None))
                continue
            default = cells[2].replace("`", "").strip()
            rows.append((number, CODE.findall(cells[0]), CODE.findall(cells[1]), default))
        elif in_table:
            break
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, readme = sys.argv[1], sys.argv[2]
    settings = help_options(binary)
    rows = readme_rows(readme)
    problems = []
    if len(settings) < 10:
        problems.append(f"`{binary} run --help` shows only {len(settings)} settings: is its format still "
                        "'[env VAR, default D]'? (this test would check nothing)")
    if not rows:
        problems.append(f"{readme}: no configuration table under '## Configuration'")

    seen = {}
    for number, envs, flags, default in rows:
        where = f"{readme}:{number}"
        if default is None:
            problems.append(f"{where}: a row with fewer than 4 columns")
            continue
        if len(flags) != 1:
            problems.append(f"{where}: names {len(flags)} flags ({', '.join(flags) or 'none'}); "
                            "the table has one row per flag of `run --help`")
            continue
        flag = flags[0]
        if flag in seen:
            problems.append(f"{where}: {flag} has a row already (line {seen[flag]})")
            continue
        seen[flag] = number
        if flag not in settings:
            problems.append(f"{where}: {flag} is not a setting of `run --help`")
            continue
        s = settings[flag]
        if not envs or envs[0] != s["env"]:
            problems.append(f"{where}: {flag}'s variable is {envs[0] if envs else 'missing'} in the "
                            f"README, {s['env']} in the help")
        for extra in envs[1:]:
            if extra not in s["also"]:
                problems.append(f"{where}: {extra} is in {flag}'s row, but the help does not name it "
                                f"for {flag} (it names: {', '.join([s['env']] + s['also'])})")
        for also in s["also"]:
            if also not in envs:
                problems.append(f"{where}: the help names {also} for {flag} (also {also}); the row does not")
        if default != s["default"]:
            problems.append(f"{where}: {flag}'s default is '{default}' in the README, "
                            f"'{s['default']}' in the help")
    for flag, s in settings.items():
        if flag not in seen:
            problems.append(f"{readme}: no row for {flag} ({s['env']}, default '{s['default']}'), "
                            "a setting of `run --help`")

    for p in problems:
        print(p)
    if problems:
        print(f"FAIL: {len(problems)} disagreement(s) between {readme}'s configuration table and "
              f"`eaglesense run --help`")
        return 1
    print(f"ok: {len(rows)} rows of {readme}'s configuration table agree with the {len(settings)} "
          "settings of `eaglesense run --help`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
