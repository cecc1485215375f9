#!/usr/bin/perl
# Perl DBI with DBD::ODBC (Debian's libdbd-odbc-perl) against the local Lakebase through the
# real unixODBC and the driver: DSN and DSN-less connects, bound parameters read back exactly,
# 100,000 rows, table_info/column_info, LongReadLen, and the errors a user sees.
# Debian's DBD::ODBC is built without Unicode by default: odbc_utf8_on makes it decode
# UTF-8 (the documented workaround; the same with psqlODBC alone).
# Needs the ctest fixture's environment.
use strict;
use warnings;
use utf8;
use DBI qw(:sql_types);
use DBD::ODBC;
binmode STDOUT, ':encoding(UTF-8)';

my $state = $ENV{LAKEBASE_LOCAL_STATE};
my $client_id = $ENV{LAKEBASE_CLIENT_ID};
open my $fh, '<', "$state/client-secret" or die "client-secret: $!";
chomp(my $secret = <$fh>);
close $fh;
my $dsnless = "Driver={$ENV{LAKEBASE_DRIVER}};DatabricksHost=$ENV{LAKEBASE_EMULATOR_URL};ClientID=$client_id;"
    . "ClientSecret={$secret};Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;"
    . "Port=$ENV{LAKEBASE_PG_PORT};CAFile={$state/ca.pem}";
my $text = "Zoë 日本 🚀";
my $numeric = '123456789012345678901234567890.12345';
my $blob = join '', map { chr($_ % 256) } 0 .. 1023;

my ($passed, $failed) = (0, 0);
sub check {
    my ($name, $ok, $detail) = @_;
    if ($ok) { print "ok   $name\n"; $passed++ }
    else { print "FAIL $name ", substr($detail // '', 0, 400), "\n"; $failed++ }
}
my %attrs = (RaiseError => 0, PrintError => 0, AutoCommit => 1, odbc_utf8_on => 1);

for my $how (['DSN', 'dbi:ODBC:lakebase-local'], ['DSN-less', "dbi:ODBC:$dsnless"]) {
    my $dbh = DBI->connect($how->[1], undef, undef, \%attrs);
    check("connect $how->[0]", $dbh, $DBI::errstr);
    next unless $dbh;
    my ($user, $db) = $dbh->selectrow_array('SELECT current_user, current_database()');
    check("identity $how->[0]", ($user // '') eq $client_id && ($db // '') eq 'databricks_postgres', "$user $db");
    $dbh->disconnect;
}

my $dbh = DBI->connect('dbi:ODBC:lakebase-local', undef, undef, { %attrs, RaiseError => 1 });
$dbh->{LongReadLen} = 1 << 20;
$dbh->do('DROP TABLE IF EXISTS perl_types');
$dbh->do('CREATE TABLE perl_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, bin bytea, z text)');
my $sth = $dbh->prepare('INSERT INTO perl_types VALUES (?, ?, ?, ?, ?, ?)');
$sth->bind_param(1, -2147483648, SQL_INTEGER);
$sth->bind_param(2, $numeric);
$sth->bind_param(3, $text);
$sth->bind_param(4, '2026-11-26 14:37:51.123456+00');
$sth->bind_param(5, $blob, SQL_VARBINARY);
$sth->bind_param(6, undef);
$sth->execute;
$dbh->do("SET TIME ZONE 'UTC'");
# CAST, not ::text: DBD::ODBC reads ':text' as a named placeholder (odbc_ignore_named_placeholders).
my $row = $dbh->selectrow_hashref('SELECT i, CAST(n AS text) AS n, t, CAST(ts AS text) AS ts, bin, z FROM perl_types');
check('round trip of every type', $row->{i} == -2147483648 && $row->{n} eq $numeric && $row->{t} eq $text
      && $row->{ts} eq '2026-11-26 14:37:51.123456+00' && $row->{bin} eq $blob && !defined $row->{z},
      join ' ', map { "$_=" . (defined $row->{$_} ? length($row->{$_}) . ':' . substr($row->{$_}, 0, 40) : 'undef') } sort keys %$row);

my $cols = $dbh->column_info(undef, undef, 'perl_types', undef)->fetchall_arrayref({});
check('column_info', join(',', map { $_->{COLUMN_NAME} } @$cols) eq 'i,n,t,ts,bin,z', join(',', map { $_->{COLUMN_NAME} } @$cols));
my $tables = $dbh->table_info(undef, undef, 'perl_types', 'TABLE')->fetchall_arrayref({});
check('table_info', @$tables == 1 && $tables->[0]{TABLE_NAME} eq 'perl_types', scalar @$tables);
$dbh->do('DROP TABLE perl_types');

$sth = $dbh->prepare('SELECT g FROM generate_series(1, 100000) g');
$sth->execute;
my ($n, $sum) = (0, 0);
while (my $r = $sth->fetchrow_arrayref) { $n++; $sum += $r->[0] }
check('100,000 rows', $n == 100000 && $sum == 5000050000, "$n rows, sum $sum");

$dbh->{RaiseError} = 0;
my $ok = $dbh->do('SELECT * FROM no_such_table');
check('SQL error shows its SQLSTATE', !defined $ok && $dbh->state eq '42P01', $dbh->state . ' ' . ($dbh->errstr // ''));
$dbh->disconnect;

my $bad = DBI->connect('dbi:ODBC:DSN=lakebase-local;ClientSecret={not-the-secret}', undef, undef, \%attrs);
my $err = $DBI::errstr // '';
check('wrong secret: 28000 and the fix', !$bad && $DBI::state eq '28000' && $err =~ /Check ClientID and ClientSecret/,
      "$DBI::state $err");

print "$passed passed, $failed failed\n";
exit($failed || !$passed ? 1 : 0);
