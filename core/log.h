/* log.h -- one line per event on stderr:
 *   2026-11-22T10:00:03.123Z INFO  collect: feed acme-blog: 3 new items
 * The level threshold is process-wide and set once at start-up. Secrets
 * (tokens, passwords) are never passed to these functions. */
#ifndef CTX_LOG_H
#define CTX_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
int log_level_parse(const char *name, enum log_level *out); /* 0 ok, -1 unknown */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
