"""LibreOffice Base, headless, through Python-UNO (Debian's libreoffice-core-nogui,
libreoffice-base-core, libreoffice-base-drivers and python3-uno; run with /usr/bin/python3)
against the local Lakebase through LibreOffice's ODBC driver (sdbc:odbc:), the real unixODBC
and the driver: a Base data source (com.sun.star.sdb.DatabaseContext) on the DSN and the bare
SDBC DriverManager, by DSN and DSN-less, identity, a table of every type written with a
prepared statement's bound parameters and read back exactly, 100,000 rows, a SQL error's
SQLSTATE, and the wrong secret's 28000 and fix text.

The script starts its own soffice (in its own process group) with a private user profile,
talks to it over a named pipe, and always ends it: a clean terminate() first, then SIGKILL to
its process group. Every wait is bounded: the start (SOFFICE_START_S), the whole run (a timer
thread kills the group after RUN_LIMIT_S, which makes a UNO call stuck in soffice return), and
the script's own death (a watchdog shell kills the group when this process's pipe closes, so
even ctest's kill of this script leaves no soffice behind).
LibreOffice on its own (the same with psqlODBC alone):
- the ODBC driver connects with "DSN=" and the rest of the URL, so settings can follow the
  DSN's name: sdbc:odbc:my-lakebase;ClientSecretFile=/path (the wrong-secret case uses this).
- DSN-less: an empty DSN name and the settings after it, sdbc:odbc:;Driver=Lakebase;...
  (unixODBC takes the Driver key when DSN= is empty).
- an SQLException's Message ends with LibreOffice's own source location
  (" at ./connectivity/source/..."); SQLState carries the driver's SQLSTATE.
Needs the ctest fixture's environment."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.sdbc import SQLException
from com.sun.star.sdbc.DataType import VARCHAR as _VARCHAR

from local_lakebase import BLOB, CLIENT_ID, DSNLESS, NUMERIC_TEXT, TEXT, check, finish


class DataType:   # com.sun.star.sdbc.DataType's constants used here
    VARCHAR = _VARCHAR

SOFFICE = "/usr/bin/soffice"
SOFFICE_START_S = 90   # a cold start on a loaded 2-core machine takes a few seconds
RUN_LIMIT_S = 240      # the whole script; ctest's own TIMEOUT is 300

def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def start_soffice(profile, pipe):
    """soffice in its own process group, accepting UNO on a named pipe."""
    return subprocess.Popen(
        [SOFFICE, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         "--nolockcheck", "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
         "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def start_watchdog(proc, tmp):
    """A shell in its own session that kills soffice's group and removes the profile once
    our end of its stdin closes: when this script ends in any way, SIGKILL included."""
    script = "read _; kill -KILL -%d 2>/dev/null; sleep 1; rm -rf '%s'" % (proc.pid, tmp)
    return subprocess.Popen(["/bin/sh", "-c", script],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def connect_uno(proc, pipe):
    """The remote component context, once soffice answers (bounded)."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + SOFFICE_START_S
    while True:
        try:
            return resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
        except NoConnectException:
            if proc.poll() is not None:
                raise RuntimeError("soffice exited with %s before accepting" % proc.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not accept within %d s" % SOFFICE_START_S)
            time.sleep(0.25)


def stop_soffice(proc, ctx):
    """terminate() through UNO, then a bounded wait; the process group is killed anyway."""
    how = "terminate()"
    try:
        if ctx is not None:
            desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            desktop.terminate()
    except Exception:   # the bridge goes away as soffice exits: expected
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        how = "SIGKILL after terminate() timed out"
    kill_group(proc)   # leftovers (oosplash's child soffice.bin) too
    proc.wait()
    return how


def rows_of(result, ncols):
    out = []
    while result.next():
        out.append(tuple(result.getString(i) for i in range(1, ncols + 1)))
    return out


def query(connection, sql, ncols):
    stmt = connection.createStatement()
    try:
        return rows_of(stmt.executeQuery(sql), ncols)
    finally:
        stmt.close()


def exercise(ctx):
    smgr = ctx.ServiceManager

    # Base: a data source object, as a .odb file holds one, on the ODBC DSN.
    dbctx = smgr.createInstanceWithContext("com.sun.star.sdb.DatabaseContext", ctx)
    source = dbctx.createInstance()
    source.URL = "sdbc:odbc:lakebase-local"
    t0 = time.monotonic()
    cn = source.getConnection("", "")
    print("     (Base data source connected in %.2f s)" % (time.monotonic() - t0))
    ident = query(cn, "SELECT current_user, current_database()", 2)
    check("Base data source: identity", ident == [(CLIENT_ID, "databricks_postgres")], ident)
    rows = query(cn, "SELECT g, 'row ' || g FROM generate_series(1, 5) g ORDER BY g", 2)
    check("Base data source: a few rows", rows == [(str(g), "row %d" % g) for g in range(1, 6)], rows)
    round_trip(cn)
    many_rows(cn)
    sql_error(cn)
    cn.close()

    # SDBC directly: the ODBC driver through the DriverManager.
    dm = smgr.createInstanceWithContext("com.sun.star.sdbc.DriverManager", ctx)
    cn = dm.getConnectionWithInfo("sdbc:odbc:lakebase-local", ())
    ident = query(cn, "SELECT current_user, current_database()", 2)
    check("DriverManager: identity", ident == [(CLIENT_ID, "databricks_postgres")], ident)
    cn.close()

    # DSN-less: an empty DSN name, then the settings ("DSN=;Driver=...;..."): unixODBC takes
    # the Driver key when the DSN is empty.
    cn = dm.getConnectionWithInfo("sdbc:odbc:;" + DSNLESS, ())
    ident = query(cn, "SELECT current_user, current_database()", 2)
    check("DriverManager DSN-less (sdbc:odbc:;Driver=...): identity", ident == [(CLIENT_ID, "databricks_postgres")], ident)
    cn.close()

    # A wrong secret: LibreOffice's ODBC driver connects with "DSN=<the rest of the URL>",
    # so settings can follow the DSN's name.
    try:
        dm.getConnectionWithInfo("sdbc:odbc:lakebase-local;ClientSecret={not-the-secret}", ())
        check("wrong secret: the fix in the SQLException", False, "connected")
    except SQLException as e:
        print("     (wrong secret: SQLState %s, message %r)" % (e.SQLState, e.Message[:300]))
        check("wrong secret: 28000 and the fix in the SQLException",
              e.SQLState == "28000" and "Check ClientID and ClientSecret" in e.Message,
              "%s %s" % (e.SQLState, e.Message))


def round_trip(cn):
    """A table written with a prepared statement's bound parameters, read back exactly."""
    stmt = cn.createStatement()
    stmt.executeUpdate("DROP TABLE IF EXISTS lo_types")
    stmt.executeUpdate("CREATE TABLE lo_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, "
                       "bin bytea, z text)")
    ins = cn.prepareStatement("INSERT INTO lo_types VALUES (?, ?, ?, ?, ?, ?)")
    ins.setInt(1, -2147483648)
    ins.setString(2, NUMERIC_TEXT)
    ins.setString(3, TEXT)
    ins.setString(4, "2026-11-26 14:37:51.123456+00")
    ins.setBytes(5, uno.ByteSequence(BLOB))
    ins.setNull(6, DataType.VARCHAR)
    check("Base: insert with bound parameters", ins.executeUpdate() == 1)
    ins.close()
    stmt.executeUpdate("SET TIME ZONE 'UTC'")
    res = stmt.executeQuery("SELECT i, CAST(n AS text), t, CAST(ts AS text), bin, z FROM lo_types")
    res.next()
    row = (res.getInt(1), res.getString(2), res.getString(3), res.getString(4), bytes(res.getBytes(5).value))
    res.getString(6)
    z_null = res.wasNull()
    check("Base: every type read back exactly", row == (-2147483648, NUMERIC_TEXT, TEXT, "2026-11-26 14:37:51.123456+00",
                                                       BLOB) and z_null, row[:4])
    stmt.executeUpdate("DROP TABLE lo_types")
    stmt.close()


def many_rows(cn):
    t0 = time.monotonic()
    stmt = cn.createStatement()
    res = stmt.executeQuery("SELECT g FROM generate_series(1, 100000) g")
    n = total = 0
    while res.next():
        n += 1
        total += res.getLong(1)
    stmt.close()
    # Each UNO call is a round trip to soffice: 100,000 rows take about a minute here.
    print("     (100,000 rows through UNO in %.2f s)" % (time.monotonic() - t0))
    check("Base: 100,000 rows", (n, total) == (100000, 5000050000), (n, total))


def sql_error(cn):
    stmt = cn.createStatement()
    try:
        stmt.executeQuery("SELECT * FROM no_such_table")
        check("Base: a SQL error shows its SQLSTATE", False, "no error")
    except SQLException as e:
        check("Base: a SQL error shows its SQLSTATE", e.SQLState == "42P01", "%s %s" % (e.SQLState, e.Message))
    stmt.close()


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main():
    tmp = tempfile.mkdtemp(prefix="lb-libreoffice-")
    pipe = "lb_lo_%d" % os.getpid()
    proc = start_soffice(os.path.join(tmp, "profile"), pipe)
    watchdog = start_watchdog(proc, tmp)
    timed_out = threading.Event()
    limit = threading.Timer(RUN_LIMIT_S, lambda: (timed_out.set(), kill_group(proc)))
    limit.daemon = True
    limit.start()
    ctx = None
    try:
        t0 = time.monotonic()
        ctx = connect_uno(proc, pipe)
        print("     (soffice accepted UNO in %.2f s)" % (time.monotonic() - t0))
        exercise(ctx)
    except Exception as e:   # a failure to start or connect is a test failure, with its reason
        check("LibreOffice run", False, "%s: %s" % (type(e).__name__, e))
    finally:
        limit.cancel()
        if timed_out.is_set():
            check("run within %d s" % RUN_LIMIT_S, False, "soffice killed by the run limit")
        t0 = time.monotonic()
        how = stop_soffice(proc, ctx)
        watchdog.kill()   # soffice's group is gone: nothing left for it to kill
        watchdog.wait()
        watchdog.stdin.close()
        print("     (soffice ended by %s in %.2f s, exit %s)" % (how, time.monotonic() - t0, proc.returncode))
        check("soffice ended cleanly", how == "terminate()" and proc.returncode == 0, how)
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
