// sqlite3.h outside its one file: refused.
#include <sqlite3.h>
