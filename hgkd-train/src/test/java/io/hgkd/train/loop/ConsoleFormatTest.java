package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ConsoleFormatTest {

    @Test
    void durations() {
        assertEquals("0:00:00", ConsoleFormat.duration(0));
        assertEquals("0:00:05", ConsoleFormat.duration(4.6));
        assertEquals("1:01:01", ConsoleFormat.duration(3661));
        assertEquals("23:59:59", ConsoleFormat.duration(86_399));
        assertEquals("2d 03:04:05", ConsoleFormat.duration(2 * 86_400 + 3 * 3600 + 4 * 60 + 5));
        assertEquals("?", ConsoleFormat.duration(Double.NaN));
        assertEquals("?", ConsoleFormat.duration(Double.POSITIVE_INFINITY));
        assertEquals("?", ConsoleFormat.duration(-1));
    }

    @Test
    void rates() {
        assertEquals("1235 img/s", ConsoleFormat.rate(1234.6));
        assertEquals("56.7 img/s", ConsoleFormat.rate(56.74));
        assertEquals("0.89 img/s", ConsoleFormat.rate(0.8912));
        assertEquals("? img/s", ConsoleFormat.rate(Double.NaN));
        assertEquals("? img/s", ConsoleFormat.rate(0));
    }

    @Test
    void values() {
        assertEquals("0.4123", ConsoleFormat.value(0.41234));
        assertEquals("1.235e-05", ConsoleFormat.value(1.2345e-5));
        assertEquals("NaN", ConsoleFormat.value(Double.NaN));
        assertEquals("-Inf", ConsoleFormat.value(Double.NEGATIVE_INFINITY));
        assertEquals("1.50e-04", ConsoleFormat.sci(1.5e-4));
        assertEquals("[==========>         ]", ConsoleFormat.bar(0.5, 20));
        assertEquals("[====]", ConsoleFormat.bar(1.0, 4));
    }
}
