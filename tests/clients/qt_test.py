"""Qt's QODBC driver (libqt5sql5-odbc, through Debian's python3-pyqt5.qtsql, run with
/usr/bin/python3) against the local Lakebase through the real unixODBC and the driver: DSN
and DSN-less connects, bound parameters read back exactly, 100,000 rows, and the errors a
user sees. Needs the ctest fixture's environment."""
import sys

from PyQt5.QtCore import QByteArray, QCoreApplication, QVariant
from PyQt5.QtSql import QSqlDatabase, QSqlQuery

from local_lakebase import BLOB, CLIENT_ID, DSNLESS, NUMERIC_TEXT as NUMERIC, SECRET, TEXT, check, finish

def open_db(name, connect_string):
    db = QSqlDatabase.addDatabase("QODBC3", name)
    db.setDatabaseName(connect_string)
    return db, db.open()


def run(db, sql, *params):
    q = QSqlQuery(db)
    q.prepare(sql)
    for p in params:
        q.addBindValue(p)
    ok = q.exec_()
    return q, ok


app = QCoreApplication(sys.argv)
# QODBC takes a database name without DRIVER= or SERVER= as a DSN's name (it prepends
# "DSN=" itself), so a DSN is named bare.
for how, cs in (("DSN", "lakebase-local"), ("DSN-less", DSNLESS)):
    db, ok = open_db(how, cs)
    check("open " + how, ok, db.lastError().text())
    if ok:
        q, _ = run(db, "SELECT current_user, current_database()")
        q.next()
        check("identity " + how, (q.value(0), q.value(1)) == (CLIENT_ID, "databricks_postgres"), (q.value(0), q.value(1)))
        db.close()

db, ok = open_db("work", "lakebase-local")
run(db, "DROP TABLE IF EXISTS qt_types")
run(db, "CREATE TABLE qt_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, bin bytea, z text)")
q, ok = run(db, "INSERT INTO qt_types VALUES (?, ?, ?, ?, ?, ?)", -2147483648, NUMERIC, TEXT,
            "2026-11-26 14:37:51.123456+00", QByteArray(BLOB), QVariant())
check("insert with bound parameters", ok, q.lastError().text())
run(db, "SET TIME ZONE 'UTC'")
q, ok = run(db, "SELECT i, CAST(n AS text), t, CAST(ts AS text), bin, z FROM qt_types")
q.next()
row = [q.value(i) for i in range(6)]
check("round trip of every type", row[0] == -2147483648 and row[1] == NUMERIC and row[2] == TEXT
      and row[3] == "2026-11-26 14:37:51.123456+00" and bytes(row[4]) == BLOB and q.isNull(5), row[:4])
run(db, "DROP TABLE qt_types")

q, ok = run(db, "SELECT g FROM generate_series(1, 100000) g")
n = total = 0
while q.next():
    n += 1
    total += int(q.value(0))
check("100,000 rows", n == 100000 and total == 5000050000, (n, total))

q, ok = run(db, "SELECT * FROM no_such_table")
# Qt 5's QODBC shows no SQLSTATE at all: the text and the native error code only.
err = q.lastError()
check("SQL error shows PostgreSQL's text", not ok and 'relation "no_such_table" does not exist' in err.text(),
      (err.nativeErrorCode(), err.text()))
db.close()

bad, ok = open_db("bad", DSNLESS.replace("ClientSecret={%s}" % SECRET, "ClientSecret={not-the-secret}"))
err = bad.lastError()
check("wrong secret: the fix, native code 20001", not ok and err.nativeErrorCode() == "20001"
      and "Check ClientID and ClientSecret" in err.text() and "not-the-secret" not in err.text(),
      (err.nativeErrorCode(), err.text()))

finish()
