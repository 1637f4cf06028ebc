/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/stat.h>

#include "omnibase/omnibase.h"

#include "plan/types.h"

/* Plan time: records PATH (absolute, no symlink in it) as a writable SQLite database.
 * A database that does not exist yet is created empty at launch, as SQLite would. */
int dbfiles_plan(Plan *p, const char *path);
/* Launch: opens each database's directory (no symlink on the way) and creates missing
 * database files. */
int dbfiles_prepare(Plan *p, ob_error *reterr);
void dbfiles_done(Plan *p);

/* The database whose side file PATH (absolute, as the program wrote it) names, with the side
 * file's name in its directory in NAME; NULL when PATH is no side file. */
const SqliteDb *dbfiles_match(const Plan *p, const char *path, char *name, size_t size);
/* Opens side file NAME of DB with the program's FLAGS (only the file-status and creation
 * flags SQLite uses are kept; never following a symlink). A created file gets the database's
 * owner and mode. Returns the fd or -errno. */
int dbfiles_open(const SqliteDb *db, const char *name, int flags);
