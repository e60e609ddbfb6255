#include <sqlite3.h>

/* SQLITE_TRANSIENT is a macro Swift cannot import: tells sqlite3_bind_* to copy the bytes. */
static inline void (*cbulwark_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
