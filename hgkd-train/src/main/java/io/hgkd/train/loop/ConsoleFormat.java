package io.hgkd.train.loop;

import java.util.Locale;
import java.util.Map;

/** Number formats of the progress line; package-private so tests pin them down. */
final class ConsoleFormat {

    private ConsoleFormat() {
    }

    /**
     * A duration as {@code H:MM:SS}, or {@code Nd HH:MM:SS} from one day on; {@code ?} when unknown (no rate yet,
     * NaN or infinite), so an early ETA never shows nonsense like 2562047788015 hours.
     */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0 || seconds > 1e9) {
            return "?";
        }
        long s = Math.round(seconds);
        long days = s / 86_400;
        long h = (s / 3600) % 24;
        long m = (s / 60) % 60;
        long sec = s % 60;
        if (days > 0) {
            return String.format(Locale.ROOT, "%dd %02d:%02d:%02d", days, h, m, sec);
        }
        return String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec);
    }

    /** Images per second with three significant digits or so: {@code 1234}, {@code 56.7}, {@code 0.89}. */
    static String rate(double perSecond) {
        if (!Double.isFinite(perSecond) || perSecond <= 0) {
            return "? img/s";
        }
        String fmt = perSecond >= 100 ? "%.0f" : perSecond >= 10 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, fmt, perSecond) + " img/s";
    }

    /** A loss or metric value: fixed point in the usual range, scientific outside it, {@code NaN}/{@code Inf} as such. */
    static String value(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Inf" : "-Inf";
        }
        double a = Math.abs(v);
        if (a == 0 || (a >= 1e-3 && a < 1e4)) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** A learning rate or weight decay: always scientific, {@code 1.50e-04}. */
    static String sci(double v) {
        return String.format(Locale.ROOT, "%.2e", v);
    }

    /** {@code name value name value ...} in the map's order. */
    static String terms(Map<String, Double> values) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(e.getKey()).append(' ').append(value(e.getValue()));
        }
        return sb.toString();
    }

    /** A text bar of {@code width} cells, {@code [=====>    ]}. */
    static String bar(double fraction, int width) {
        double f = Math.max(0, Math.min(1, fraction));
        int full = (int) Math.floor(f * width);
        StringBuilder sb = new StringBuilder(width + 2).append('[');
        for (int i = 0; i < width; i++) {
            sb.append(i < full ? '=' : i == full ? '>' : ' ');
        }
        return sb.append(']').toString();
    }
}
