package io.hgkd.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Compares a checkpoint's saved job config with the config of a run that wants to resume from it.
 *
 * <p>Paths are dotted for object fields and bracketed for array elements: {@code optim.lr},
 * {@code data.mean[1]}, {@code loss.terms[0].weight}. Objects are compared field by field (a field present on one
 * side only is a difference with the other side absent), arrays element by element (extra elements are differences
 * with the other side absent), numbers by value (so {@code 1} equals {@code 1.0}), everything else by equality.
 * Leaves are reported, not their parents, so every differing field is named.
 */
public final class ConfigDiff {
    private ConfigDiff() {
    }

    /**
     * One differing field.
     *
     * @param path    dotted path ({@code ""} for the root itself)
     * @param saved   the checkpoint's value, {@link MissingNode} when absent there
     * @param current the current value, {@link MissingNode} when absent there
     */
    public record Difference(String path, JsonNode saved, JsonNode current) {
        /** Validates. */
        public Difference {
            Objects.requireNonNull(path, "path");
            saved = saved == null ? MissingNode.getInstance() : saved;
            current = current == null ? MissingNode.getInstance() : current;
        }

        @Override
        public String toString() {
            return (path.isEmpty() ? "(root)" : path) + ": saved " + show(saved) + ", current " + show(current);
        }

        private static String show(JsonNode n) {
            return n.isMissingNode() ? "(absent)" : n.toString();
        }
    }

    /** Every differing leaf between {@code saved} and {@code current}, in document order. */
    public static List<Difference> compare(JsonNode saved, JsonNode current) {
        List<Difference> out = new ArrayList<>();
        walk("", orMissing(saved), orMissing(current), out);
        return out;
    }

    /**
     * The differences that are not covered by {@code allowedToChange}. A path is allowed when it equals an allowed
     * path or lies under one ({@code "output"} allows {@code output.dir} and {@code output.keep[0]}).
     */
    public static List<Difference> disallowed(List<Difference> differences, Collection<String> allowedToChange) {
        List<Difference> out = new ArrayList<>();
        for (Difference d : differences) {
            if (!isAllowed(d.path(), allowedToChange)) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * Refuses a resume when the configs differ outside {@code allowedToChange}.
     *
     * @param source the saved config's file, named in the message
     * @throws ConfigMismatchException listing every disallowed difference (and, for information, the allowed ones)
     */
    public static void requireCompatible(JsonNode saved, JsonNode current, Collection<String> allowedToChange,
                                         Path source) {
        List<Difference> all = compare(saved, current);
        List<Difference> bad = disallowed(all, allowedToChange);
        if (bad.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        sb.append("cannot resume from ").append(source).append(": the config differs in ").append(bad.size())
                .append(bad.size() == 1 ? " field" : " fields").append(" that may not change:");
        for (Difference d : bad) {
            sb.append("\n  ").append(d);
        }
        if (all.size() > bad.size()) {
            sb.append("\n(allowed to change, and changed:");
            for (Difference d : all) {
                if (!bad.contains(d)) {
                    sb.append(' ').append(d.path());
                }
            }
            sb.append(')');
        }
        throw new ConfigMismatchException(sb.toString(), bad);
    }

    private static boolean isAllowed(String path, Collection<String> allowed) {
        for (String a : allowed) {
            if (path.equals(a) || path.startsWith(a + ".") || path.startsWith(a + "[")) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode orMissing(JsonNode n) {
        return n == null ? MissingNode.getInstance() : n;
    }

    private static void walk(String path, JsonNode a, JsonNode b, List<Difference> out) {
        if (a.isObject() && b.isObject()) {
            Set<String> keys = new LinkedHashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                walk(path.isEmpty() ? k : path + "." + k, a.path(k), b.path(k), out);
            }
        } else if (a.isArray() && b.isArray()) {
            int n = Math.max(a.size(), b.size());
            for (int i = 0; i < n; i++) {
                walk(path + "[" + i + "]", a.path(i), b.path(i), out);
            }
        } else if (!sameLeaf(a, b)) {
            out.add(new Difference(path, a, b));
        }
    }

    private static boolean sameLeaf(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }
}
