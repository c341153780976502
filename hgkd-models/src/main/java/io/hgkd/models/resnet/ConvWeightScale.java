package io.hgkd.models.resnet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The scale of a {@link ResNet}'s conv weights relative to their initialisation, and a reset of that scale that
 * keeps the network's function.
 *
 * <p>Every conv of a ResNet feeds a BatchNorm, so the norm of its weight does not change what the network computes;
 * but an optimiser with steps of a fixed size (AdamW, SGD) turns a weight c times larger c times more slowly.
 * Pretraining with LAMB, whose steps are proportional to each weight's norm, can grow that norm (on Fashion-MNIST,
 * LAMB at 3.2e-2 per 256 for 3 epochs left the student's convs at about 1.9x, which halved an AdamW fine-tune's
 * effective learning rate; {@code docs/results.md}). {@link #resetToInit} scales every conv weight to the expected
 * norm of its initialisation (kaiming-normal, fan-out, ReLU gain: {@code sqrt(2 * in_channels)}) and the running
 * mean and variance of the BatchNorm it feeds by c and c^2: the same function in training mode (batch statistics),
 * and in eval mode up to BatchNorm's epsilon.
 *
 * <p>Pairs are found by timm's names, which {@link ResNet} uses: {@code conv1} feeds {@code bn1},
 * {@code layer1.0.conv2} feeds {@code layer1.0.bn2}, {@code downsample.0} feeds {@code downsample.1}.
 */
public final class ConvWeightScale {
    private static final Pattern CONV = Pattern.compile("(.*?)conv(\\d+)\\.weight");
    private static final Pattern DOWNSAMPLE = Pattern.compile("(.*downsample\\.)0\\.weight");

    private ConvWeightScale() {
    }

    /**
     * One conv weight's scale.
     *
     * @param name     the weight's name, e.g. {@code layer1.0.conv2.weight}
     * @param norm     its Frobenius norm
     * @param initNorm the expected norm of its initialisation, {@code sqrt(2 * in_channels)}
     */
    public record Entry(String name, double norm, double initNorm) {
        /** {@code norm / initNorm}. */
        public double ratio() {
            return norm / initNorm;
        }
    }

    /** Every conv weight's norm and init norm, in the model's parameter order. */
    public static List<Entry> measure(ResNet model) {
        Map<String, INDArray> state = model.stateDict();
        List<Entry> out = new ArrayList<>();
        for (String conv : convs(state).keySet()) {
            out.add(entry(conv, state.get(conv)));
        }
        return out;
    }

    /**
     * Scales every conv weight to its initialisation's norm and the feeding BatchNorm's running statistics to match
     * (see the class comment), in place.
     *
     * @return the scales before the reset
     */
    public static List<Entry> resetToInit(ResNet model) {
        Map<String, INDArray> state = model.stateDict();
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, String> e : convs(state).entrySet()) {
            INDArray w = state.get(e.getKey());
            Entry before = entry(e.getKey(), w);
            if (!(before.norm() > 0)) {
                throw new IllegalArgumentException("conv weight " + e.getKey() + " has norm " + before.norm()
                        + ": cannot scale it to its init norm");
            }
            double c = before.initNorm() / before.norm();
            String bn = e.getValue();
            w.muli(c);
            state.get(bn + "running_mean").muli(c);
            state.get(bn + "running_var").muli(c * c);
            out.add(before);
        }
        return out;
    }

    /** The median of {@link Entry#ratio()}; NaN for an empty list. */
    public static double medianRatio(List<Entry> entries) {
        double[] r = entries.stream().mapToDouble(Entry::ratio).sorted().toArray();
        if (r.length == 0) {
            return Double.NaN;
        }
        return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    }

    private static Entry entry(String name, INDArray w) {
        double norm = w.castTo(DataType.DOUBLE).norm2Number().doubleValue();
        return new Entry(name, norm, Math.sqrt(2.0 * w.size(1)));
    }

    /** The 4-d weights' names, each with the prefix of the BatchNorm it feeds (checked to exist), in state order. */
    private static Map<String, String> convs(Map<String, INDArray> state) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            if (e.getValue().rank() != 4) {
                continue;
            }
            String bn = bnOf(e.getKey());
            if (bn == null || !state.containsKey(bn + "running_var") || !state.containsKey(bn + "running_mean")) {
                throw new IllegalArgumentException("conv weight " + e.getKey() + " "
                        + Arrays.toString(e.getValue().shape()) + " feeds no BatchNorm found by name (looked for "
                        + (bn == null ? "?" : bn) + "running_var)");
            }
            out.put(e.getKey(), bn);
        }
        return out;
    }

    private static String bnOf(String conv) {
        Matcher m = CONV.matcher(conv);
        if (m.matches()) {
            return m.group(1) + "bn" + m.group(2) + ".";
        }
        m = DOWNSAMPLE.matcher(conv);
        return m.matches() ? m.group(1) + "1." : null;
    }
}
