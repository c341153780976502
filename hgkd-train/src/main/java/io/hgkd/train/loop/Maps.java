package io.hgkd.train.loop;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** Copies of name-to-value maps that keep the caller's order (loss terms print in the order the job defines them). */
final class Maps {

    private Maps() {
    }

    /** An unmodifiable, insertion-ordered copy; rejects null keys and values with the map's role in the message. */
    static Map<String, Double> orderedCopy(Map<String, Double> map, String what) {
        Objects.requireNonNull(map, what);
        LinkedHashMap<String, Double> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : map.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(what + " has a null name or value: " + map);
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }
}
