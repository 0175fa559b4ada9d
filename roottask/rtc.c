/*
 * The CMOS real-time clock (ports 0x70/0x71): the wall-clock time the
 * vmm-servers give their guests (uk_vmm_info.wallclock_ns at _tsc).  Read
 * twice until two reads agree, so an update in between cannot tear it;
 * BCD or binary and 12- or 24-hour modes as status register B says.
 */
#include "root.h"

static uk_word_t cmos(uk_word_t reg)
{
    uk_word_t v = 0;
    uk_out(UK_SLOT_IOPORT_ALL, 0x70, 1, reg);
    uk_in(UK_SLOT_IOPORT_ALL, 0x71, 1, &v);
    return v & 0xff;
}

struct rtc { uk_word_t sec, min, hour, day, mon, year, cent; };

static void read_once(struct rtc *t)
{
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
        ;                                /* update in progress: about 2 ms at most */
    *t = (struct rtc){ cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08),
                       cmos(0x09), cmos(0x32) };
}

static uk_word_t bcd(uk_word_t v) { return (v >> 4) * 10 + (v & 15); }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's method). */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

uk_word_t rtc_now_ns(uk_word_t *tsc)
{
    struct rtc a, b;
    read_once(&b);
    for (int i = 0; i < 5; i++) {
        a = b;
        read_once(&b);
        if (!memcmp(&a, &b, sizeof a))
            break;
    }
    *tsc = uk_rdtsc();
    uk_word_t regb = cmos(0x0b), pm = b.hour & 0x80;
    b.hour &= 0x7f;
    if (!(regb & 0x04)) {                /* BCD */
        b.sec = bcd(b.sec); b.min = bcd(b.min); b.hour = bcd(b.hour);
        b.day = bcd(b.day); b.mon = bcd(b.mon); b.year = bcd(b.year); b.cent = bcd(b.cent);
    }
    if (!(regb & 0x02))                  /* 12-hour clock: 12 AM is 0 h */
        b.hour = b.hour % 12 + (pm ? 12 : 0);
    uk_word_t year = (b.cent >= 19 && b.cent <= 30 ? b.cent : 20) * 100 + b.year;
    long days = days_from_civil((long)year, (long)b.mon, (long)b.day);
    if (days < 0 || b.mon < 1 || b.mon > 12)
        return 0;                        /* no sensible clock: 1970 */
    uk_word_t secs = (uk_word_t)days * 86400 + b.hour * 3600 + b.min * 60 + b.sec;
    return secs * 1000000000ul;
}
