package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.hgkd.core.testing.Fixtures;

/**
 * Schedules against the Python formulas of SparK ({@code lr_control.py}) and MAE ({@code lr_sched.py}) evaluated in
 * {@code tools/reference/make_optim_fixtures.py} at every step (float64). Warmup values use only + * / and must be
 * bit-identical; cosine values may differ by the last bit of the cosine (Java's {@link StrictMath#cos} against C's
 * {@code cos}), so they are compared to 4 ulp.
 */
class ScheduleTest {
    private static final Fixtures.Case FIX = new Fixtures.Case("schedules", Fixtures.load("optim/schedules.npz"));
    private static final JsonNode CFG = config();
    private static final int T = CFG.get("total").asInt();
    private static final int W = CFG.get("warmup").asInt();

    private static JsonNode config() {
        try {
            return new ObjectMapper().readTree(Fixtures.file("optim/manifest.json")).get("cases").get("schedules")
                    .get("config");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertSchedule(String key, Schedule s, long warmup) {
        INDArray expected = FIX.get(key);
        assertEquals(T, expected.length(), key);
        for (int t = 0; t < T; t++) {
            double e = expected.getDouble(t);
            double a = s.valueAt(t);
            if (t < warmup) {
                assertEquals(e, a, 0.0, key + " at warmup step " + t);
            } else {
                assertEquals(e, a, 4 * Math.ulp(e), key + " at step " + t);
            }
        }
    }

    @Test
    void sparkWarmupCosineMatchesPython() {
        double peak = CFG.get("spark_peak").asDouble();
        WarmupCosine s = WarmupCosine.spark(peak, W, T);
        assertSchedule("spark_lr", s, W);
        // the landmarks of the formula
        assertEquals(0.005 * peak, s.valueAt(0), 0.0, "start = 0.005 peak");
        assertEquals(0.001 * peak + 0.999 * peak, s.valueAt(W), 0.0, "end of warmup = peak (cos 0 = 1)");
        assertTrue(s.valueAt(W - 1) < s.valueAt(W));
        // T - 1 - W = 90 is even, so step W + 45 is the exact midpoint of the cosine
        WarmupCosine even = WarmupCosine.spark(peak, W, W + 91);
        assertEquals(0.001 * peak + 0.999 * peak * 0.5, even.valueAt(W + 45), 2 * Math.ulp(peak), "midpoint");
        assertEquals(0.001 * peak, s.valueAt(T - 1), Math.ulp(0.001 * peak), "last step = 0.001 peak");
        assertSchedule("spark_lr_nowarmup", WarmupCosine.spark(peak, 0, T), 0);
    }

    @Test
    void maeWarmupCosineMatchesPython() {
        double peak = CFG.get("mae_peak").asDouble();
        double min = CFG.get("mae_min").asDouble();
        WarmupCosine s = WarmupCosine.mae(peak, min, W, T);
        assertSchedule("mae_lr", s, W);
        assertEquals(0.0, s.valueAt(0), 0.0, "MAE warms up from 0");
        assertEquals(peak, s.valueAt(W), 0.0, "end of warmup = peak");
        assertTrue(s.valueAt(T - 1) > min, "MAE's cosine reaches min only at step T, one past the end");
        assertSchedule("mae_lr_nowarmup", WarmupCosine.mae(peak, 0.0, 0, T), 0);
    }

    @Test
    void cosineWeightDecayMatchesPython() {
        CosineWeightDecay s = new CosineWeightDecay(CFG.get("wd").asDouble(), CFG.get("wd_end").asDouble(), T);
        assertSchedule("cosine_wd", s, 0);
        assertEquals(0.04, s.valueAt(0), 1e-17, "start (0.2 + (0.04 - 0.2) * 1 rounds to 0.04 + 1 ulp, in Python too)");
        assertEquals(0.2, s.valueAt(T - 1), 1e-17);
        assertEquals(0.12, new CosineWeightDecay(0.04, 0.2, 101).valueAt(50), 1e-16, "midpoint");
    }

    @Test
    void constantIsConstant() {
        ConstantSchedule c = new ConstantSchedule(0.02);
        assertEquals(0.02, c.valueAt(0));
        assertEquals(0.02, c.valueAt(1_000_000_000L));
    }

    @Test
    void invalidArgumentsAreRejectedWithClearMessages() {
        assertMessage("warmupSteps must be >= 0", () -> WarmupCosine.spark(1e-3, -1, 10));
        assertMessage("totalSteps >= warmupSteps + 2", () -> WarmupCosine.spark(1e-3, 9, 10));
        assertMessage("peak must be finite", () -> WarmupCosine.spark(Double.NaN, 1, 10));
        assertMessage("peak must be finite", () -> WarmupCosine.spark(-1, 1, 10));
        assertMessage("0.001 * peak", () -> new WarmupCosine(WarmupCosine.Style.SPARK, 1.0, 1, 10, 0.0));
        assertMessage("totalSteps > warmupSteps", () -> WarmupCosine.mae(1.0, 0.0, 10, 10));
        assertMessage("exceeds peak", () -> WarmupCosine.mae(1.0, 2.0, 1, 10));
        assertMessage("minValue must be finite", () -> WarmupCosine.mae(1.0, -1e-6, 1, 10));
        assertMessage("style", () -> new WarmupCosine(null, 1.0, 1, 10, 0.001));
        assertMessage("totalSteps must be >= 2", () -> new CosineWeightDecay(0.04, 0.2, 1));
        assertMessage("end must be finite", () -> new CosineWeightDecay(0.04, Double.POSITIVE_INFINITY, 10));
        assertMessage("value must be finite", () -> new ConstantSchedule(-0.1));
        WarmupCosine s = WarmupCosine.spark(1e-3, 2, 10);
        assertMessage("step 10 is outside the schedule [0, 10)", () -> s.valueAt(10));
        assertMessage("step -1 is outside", () -> s.valueAt(-1));
        assertMessage("outside", () -> new CosineWeightDecay(0.04, 0.2, 10).valueAt(10));
        assertMessage("step must be >= 0", () -> new ConstantSchedule(1).valueAt(-1));
    }

    private static void assertMessage(String fragment, Runnable r) {
        Exception e = assertThrows(Exception.class, r::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
                "expected a message containing '" + fragment + "', got: " + e.getMessage());
        assertTrue(e instanceof IllegalArgumentException || e instanceof NullPointerException, e.toString());
    }

    @Test
    void schedulesRoundTripThroughJackson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<Schedule> all = List.of(WarmupCosine.spark(3.2e-3, 40, 1600), WarmupCosine.mae(1.5e-4, 1e-6, 5, 100),
                new CosineWeightDecay(0.04, 0.2, 1600), new ConstantSchedule(0.02));
        for (Schedule s : all) {
            String text = json.writeValueAsString(s);
            Schedule back = json.readValue(text, Schedule.class);
            assertEquals(s, back, text);
            assertTrue(text.contains("\"type\""), text);
        }
        // a tampered value is validated on the way in
        String bad = "{\"type\":\"warmup_cosine\",\"style\":\"SPARK\",\"peak\":1.0,\"warmupSteps\":5,"
                + "\"totalSteps\":6,\"minValue\":0.001}";
        Exception e = assertThrows(Exception.class, () -> json.readValue(bad, Schedule.class));
        assertTrue(String.valueOf(e.getMessage()).contains("totalSteps >= warmupSteps + 2"), e.getMessage());
    }
}
