<?php
// PHP's odbc_* functions and PDO_ODBC (Debian's php-odbc) against the local Lakebase through
// the real unixODBC and the driver: DSN and DSN-less connects, bound parameters read back
// exactly, 100,000 rows, and the errors a user sees. Needs the ctest fixture's environment.
$state = getenv('LAKEBASE_LOCAL_STATE');
$client_id = getenv('LAKEBASE_CLIENT_ID');
$secret = trim(explode("\n", file_get_contents("$state/client-secret"))[0]);
$dsnless = sprintf('Driver={%s};DatabricksHost=%s;ClientID=%s;ClientSecret={%s};'
    . 'Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=%s;CAFile={%s}',
    getenv('LAKEBASE_DRIVER'), getenv('LAKEBASE_EMULATOR_URL'), $client_id, $secret,
    getenv('LAKEBASE_PG_PORT'), "$state/ca.pem");
$text = "Zoë 日本 🚀";
$numeric = '123456789012345678901234567890.12345';
$blob = '';
for ($i = 0; $i < 1024; $i++) $blob .= chr($i % 256);

$passed = 0;
$failed = 0;
function check($name, $ok, $detail = '') {
    global $passed, $failed;
    if ($ok) { echo "ok   $name\n"; $passed++; }
    else { echo "FAIL $name " . substr($detail, 0, 400) . "\n"; $failed++; }
}

// odbc_*: DSN and DSN-less.
foreach (['DSN' => 'lakebase-local', 'DSN-less' => $dsnless] as $how => $cs) {
    $cn = @odbc_connect($cs, '', '');
    check("odbc_connect $how", $cn !== false, odbc_errormsg());
    if (!$cn) continue;
    $r = odbc_exec($cn, 'SELECT current_user, current_database()');
    $row = odbc_fetch_array($r);
    check("odbc identity $how", $row['current_user'] === $client_id && $row['current_database'] === 'databricks_postgres',
          json_encode($row));
    odbc_close($cn);
}

$cn = odbc_connect('lakebase-local', '', '');
odbc_exec($cn, 'DROP TABLE IF EXISTS php_types');
odbc_exec($cn, 'CREATE TABLE php_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, bin bytea, z text)');
$st = odbc_prepare($cn, "INSERT INTO php_types VALUES (?, ?, ?, ?, decode(?, 'hex'), ?)");
// odbc_execute binds every parameter as character data (PHP's own behaviour, the same
// with psqlODBC alone), which psqlODBC escapes for a bytea column: bytes go as hex text
// through decode(?, 'hex'), the documented workaround.
$ok = odbc_execute($st, [-2147483648, $numeric, $text, '2026-11-26 14:37:51.123456+00', bin2hex($blob), null]);
check('odbc_execute with bound parameters', $ok, odbc_errormsg($cn));
$r = odbc_exec($cn, "SET TIME ZONE 'UTC'");
$r = odbc_exec($cn, "SELECT i, n::text AS n, t, ts::text AS ts, encode(bin, 'hex') AS bin, z FROM php_types");
$row = odbc_fetch_array($r);
check('odbc round trip', $row['i'] == -2147483648 && $row['n'] === $numeric && $row['t'] === $text
      && $row['ts'] === '2026-11-26 14:37:51.123456+00' && $row['bin'] === bin2hex($blob) && $row['z'] === null,
      json_encode($row));
odbc_exec($cn, 'DROP TABLE php_types');

$r = odbc_exec($cn, 'SELECT g FROM generate_series(1, 100000) g');
$n = 0; $sum = 0;
while (odbc_fetch_row($r)) { $n++; $sum += (int)odbc_result($r, 1); }
check('odbc 100,000 rows', $n === 100000 && $sum === 5000050000, "$n rows, sum $sum");

$r = @odbc_exec($cn, 'SELECT * FROM no_such_table');
check('odbc SQL error shows its SQLSTATE', $r === false && odbc_error($cn) === '42P01', odbc_error($cn) . ' ' . odbc_errormsg($cn));
odbc_close($cn);

$cn = @odbc_connect('DSN=lakebase-local;ClientSecret={not-the-secret}', '', '');
$msg = odbc_errormsg();
check('odbc wrong secret: 28000 and the fix', $cn === false && odbc_error() === '28000'
      && strpos($msg, 'Check ClientID and ClientSecret') !== false && strpos($msg, 'not-the-secret') === false,
      odbc_error() . ' ' . $msg);

// PHP shows only the first diagnostic record: the fix must be in it.
$cn = @odbc_connect('DSN=lakebase-local;UID=postgres', '', '');
$msg = odbc_errormsg();
check('odbc wrong UID: the fix in the first record', $cn === false
      && strpos($msg, 'UID "postgres" is not the service principal\'s client id') !== false, $msg);
try {
    new PDO('odbc:DSN=lakebase-local;UID=postgres', null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    check('PDO wrong UID: the fix and a native code', false);
} catch (PDOException $e) {
    $m = $e->getMessage();
    check('PDO wrong UID: the fix and a native code', strpos($m, 'UID "postgres" is not the service principal\'s client id') !== false
          && strpos($m, 'SQLDriverConnect: 20002') !== false, $m); // PDO puts the native code in the text
}

// PDO_ODBC.
foreach (['DSN' => 'odbc:lakebase-local', 'DSN-less' => "odbc:$dsnless"] as $how => $cs) {
    try {
        $pdo = new PDO($cs, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        $row = $pdo->query('SELECT current_user AS u, current_database() AS d')->fetch(PDO::FETCH_ASSOC);
        check("PDO identity $how", $row['u'] === $client_id && $row['d'] === 'databricks_postgres', json_encode($row));
    } catch (PDOException $e) {
        check("PDO identity $how", false, $e->getMessage());
    }
}
$pdo = new PDO('odbc:lakebase-local', null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$pdo->exec('DROP TABLE IF EXISTS pdo_types');
$pdo->exec('CREATE TABLE pdo_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, bin bytea, z text)');
$st = $pdo->prepare('INSERT INTO pdo_types VALUES (?, ?, ?, ?, ?, ?)');
$st->bindValue(1, 42, PDO::PARAM_INT);
$st->bindValue(2, $numeric);
$st->bindValue(3, $text);
$st->bindValue(4, '2026-11-26 14:37:51.123456+00');
$st->bindValue(5, $blob, PDO::PARAM_LOB); // binary, as SQL_LONGVARBINARY
$st->bindValue(6, null, PDO::PARAM_NULL);
$st->execute();
$pdo->exec("SET TIME ZONE 'UTC'");
$row = $pdo->query("SELECT i, n::text AS n, t, ts::text AS ts, encode(bin, 'hex') AS bin, z FROM pdo_types")->fetch(PDO::FETCH_ASSOC);
check('PDO round trip', $row['i'] == 42 && $row['n'] === $numeric && $row['t'] === $text
      && $row['ts'] === '2026-11-26 14:37:51.123456+00' && $row['bin'] === bin2hex($blob) && $row['z'] === null,
      json_encode($row));
$pdo->exec('DROP TABLE pdo_types');
$n = 0;
foreach ($pdo->query('SELECT g FROM generate_series(1, 100000) g') as $r) $n++;
check('PDO 100,000 rows', $n === 100000, "$n rows");
try {
    $pdo->query('SELECT * FROM no_such_table');
    check('PDO SQL error shows its SQLSTATE', false);
} catch (PDOException $e) {
    check('PDO SQL error shows its SQLSTATE', $e->getCode() === '42P01', $e->getMessage());
}
try {
    new PDO('odbc:DSN=lakebase-local;ClientSecret={not-the-secret}', null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    check('PDO wrong secret: 28000 and the fix', false);
} catch (PDOException $e) {
    $m = $e->getMessage();
    check('PDO wrong secret: 28000 and the fix', strpos($m, '28000') !== false
          && strpos($m, 'Check ClientID and ClientSecret') !== false && strpos($m, 'not-the-secret') === false, $m);
}

echo "$passed passed, $failed failed\n";
exit($failed > 0 || $passed === 0 ? 1 : 0);
