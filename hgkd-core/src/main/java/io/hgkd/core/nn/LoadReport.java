package io.hgkd.core.nn;

import java.util.List;

/**
 * What {@link Module#loadStateDict} found: keys the module has but the state lacks, keys the state has but the
 * module lacks, and keys whose shapes differ (with both shapes).
 */
public record LoadReport(List<String> missing, List<String> unexpected, List<String> wrongShape) {
    public LoadReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        wrongShape = List.copyOf(wrongShape);
    }

    /** True when every key matched by name and shape. */
    public boolean isClean() {
        return missing.isEmpty() && unexpected.isEmpty() && wrongShape.isEmpty();
    }

    @Override
    public String toString() {
        return "missing=" + missing + ", unexpected=" + unexpected + ", wrongShape=" + wrongShape;
    }
}
