# R with RODBC (Debian's r-cran-rodbc) against the local Lakebase through the real unixODBC
# and the driver: DSN and DSN-less connects, parameters (sqlSave binds them) of every type
# (integer, double, 35-digit numeric, text, timestamptz, bytea, NULL) read back exactly,
# 100,000 rows, sqlTables/sqlColumns, and the errors a user sees.
# RODBC on its own (the same with psqlODBC alone):
# - sqlQuery has no parameters; sqlSave(fast = TRUE) is what binds them (SQLBindParameter,
#   one execute per row), and into an existing table it needs append = TRUE.
# - R has no exact numeric: a numeric(40,5) read as a number loses digits. Send it as a
#   character column and read it back as text (CAST(n AS text) with as.is = TRUE).
# - sqlQuery of a statement without a result set (CREATE, DROP, INSERT) returns "No Data",
#   a character vector like an error's: run those with odbcQuery, which returns 1 on success
#   (and -1 with odbcGetErrMsg on failure).
# - errors are not R errors: sqlQuery returns a character vector ("42P01 7 ERROR: ...") and
#   a failed connect returns -1 with the driver's records as warnings ("state 28000, ...").
# - RODBC sends and reads text in R's native encoding: in the C locale 'Zoë' reaches the
#   database as 'Zo<U+00EB>'. Run R in a UTF-8 locale (LANG=C.UTF-8); this script sets one
#   (and compares text byte for byte, since a locale set at run time leaves it marked native).
# - bytea: sqlSave into a bytea column crashes R (a segfault in RODBC), and RODBC reads a bytea
#   column as an "ODBC_binary" list whose bytes are wrong (00 00 00 for '\x00ff10'), both the
#   same with psqlODBC alone. Save bytes as hex text and convert in SQL (decode(x, 'hex'); here
#   ALTER COLUMN ... TYPE bytea USING decode(...)), read them as encode(bin, 'hex').
# - a timestamp with time zone reads as POSIXct without its fraction: read CAST(ts AS text).
#   sqlSave cuts character data to the column size psqlODBC reports (26 for a timestamp with
#   time zone, with a warning), which drops an offset: set the session's time zone (SET TIME
#   ZONE) and send the time in it, without the offset.
# Needs the ctest fixture's environment.
suppressPackageStartupMessages(library(RODBC))
if (!l10n_info()$`UTF-8`) invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))

state <- Sys.getenv("LAKEBASE_LOCAL_STATE")
client_id <- Sys.getenv("LAKEBASE_CLIENT_ID")
secret <- readLines(file.path(state, "client-secret"), n = 1, warn = FALSE)
dsnless <- paste0("Driver={", Sys.getenv("LAKEBASE_DRIVER"), "};DatabricksHost=", Sys.getenv("LAKEBASE_EMULATOR_URL"),
                  ";ClientID=", client_id, ";ClientSecret={", secret,
                  "};Endpoint=projects/demo/branches/main/endpoints/primary;Servername=localhost;Port=",
                  Sys.getenv("LAKEBASE_PG_PORT"), ";CAFile={", file.path(state, "ca.pem"), "}")
text <- "Zo\u00eb \u65e5\u672c \U0001F680"
numeric_text <- "123456789012345678901234567890.12345"

passed <- 0L
failed <- 0L
check <- function(name, ok, detail = "") {
  if (isTRUE(ok)) {
    cat("ok   ", name, "\n", sep = "")
    passed <<- passed + 1L
  } else {
    cat("FAIL ", name, " ", substr(paste(detail, collapse = " "), 1, 400), "\n", sep = "")
    failed <<- failed + 1L
  }
}
# Runs a connect, keeping its warnings (RODBC reports a failed connect as warnings).
connect_with <- function(f) {
  warnings <- character()
  ch <- withCallingHandlers(f(), warning = function(w) {
    warnings <<- c(warnings, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(ch = ch, warnings = warnings)
}

for (how in list(list("DSN", function() odbcConnect("lakebase-local")),
                 list("DSN-less", function() odbcDriverConnect(dsnless)))) {
  r <- connect_with(how[[2]])
  check(paste("connect", how[[1]]), inherits(r$ch, "RODBC"), r$warnings)
  if (!inherits(r$ch, "RODBC")) next
  id <- sqlQuery(r$ch, "SELECT current_user, current_database()", stringsAsFactors = FALSE)
  check(paste("identity", how[[1]]), is.data.frame(id) && identical(id[[1]], client_id) &&
        identical(id[[2]], "databricks_postgres"), unlist(id))
  # RODBC keeps the driver's output connection string with the channel (and prints it).
  check(paste("no secret in the kept connection string,", how[[1]]),
        !grepl(secret, attr(r$ch, "connection.string"), fixed = TRUE), "")
  odbcClose(r$ch)
}

ch <- odbcConnect("lakebase-local")
invisible(odbcQuery(ch, "DROP TABLE IF EXISTS rodbc_types"))
created <- odbcQuery(ch, paste("CREATE TABLE rodbc_types (i integer, d double precision, n numeric(40,5), t text,",
                                "ts timestamp with time zone, bin text, z text)"))
check("create table", identical(created, 1L), odbcGetErrMsg(ch))
blob_hex <- paste(sprintf("%02x", rep(0:255, 4)), collapse = "")
invisible(odbcQuery(ch, "SET TIME ZONE 'UTC'"))
rows <- data.frame(i = -2147483647L, d = 0.1, n = numeric_text, t = text, ts = "2026-11-26 14:37:51.123456",
                   bin = blob_hex, z = NA_character_, stringsAsFactors = FALSE)
saved <- sqlSave(ch, rows, tablename = "rodbc_types", append = TRUE, rownames = FALSE, fast = TRUE)
check("insert with parameters (sqlSave)", identical(saved, 1L), saved)
check("bytes saved as hex text made bytea in SQL", identical(odbcQuery(ch, paste(
      "ALTER TABLE rodbc_types ALTER COLUMN bin TYPE bytea USING decode(bin, 'hex')")), 1L), odbcGetErrMsg(ch))
back <- sqlQuery(ch, paste("SELECT i, d, CAST(n AS text) AS n, t, CAST(ts AS text) AS ts, encode(bin, 'hex') AS bin, z",
                           "FROM rodbc_types"), as.is = c(FALSE, FALSE, TRUE, TRUE, TRUE, TRUE, TRUE), stringsAsFactors = FALSE)
check("round trip of every type", is.data.frame(back) && nrow(back) == 1 && identical(back$i, rows$i) &&
      identical(back$d, rows$d) && identical(back$n, numeric_text) && identical(charToRaw(back$t), charToRaw(text)) &&
      identical(back$ts, "2026-11-26 14:37:51.123456+00") && identical(back$bin, blob_hex) && is.na(back$z),
      capture.output(str(back)))
cols <- sqlColumns(ch, "rodbc_types")
check("sqlColumns", identical(as.character(cols$COLUMN_NAME), c("i", "d", "n", "t", "ts", "bin", "z")), cols$COLUMN_NAME)
tabs <- sqlTables(ch, tableName = "rodbc_types")
check("sqlTables", nrow(tabs) == 1 && tabs$TABLE_NAME == "rodbc_types", nrow(tabs))
check("drop table", identical(odbcQuery(ch, "DROP TABLE rodbc_types"), 1L), odbcGetErrMsg(ch))

t0 <- Sys.time()
many <- sqlQuery(ch, "SELECT g FROM generate_series(1, 100000) g")
took <- as.numeric(Sys.time() - t0, units = "secs")
check("100,000 rows", is.data.frame(many) && nrow(many) == 100000 && sum(as.numeric(many$g)) == 5000050000,
      if (is.data.frame(many)) nrow(many) else many)
cat(sprintf("     (100,000 rows fetched in %.2f s)\n", took))

err <- sqlQuery(ch, "SELECT * FROM no_such_table")
check("SQL error shows its SQLSTATE", is.character(err) && startsWith(err[1], "42P01"), err)
odbcClose(ch)

r <- connect_with(function() odbcDriverConnect("DSN=lakebase-local;ClientSecret={not-the-secret}"))
check("wrong secret: 28000 and the fix", identical(r$ch, -1L) && any(grepl("state 28000", r$warnings)) &&
      any(grepl("Check ClientID and ClientSecret", r$warnings, fixed = TRUE)), r$warnings)

cat(passed, " passed, ", failed, " failed\n", sep = "")
quit(status = if (failed > 0 || passed == 0) 1 else 0)
