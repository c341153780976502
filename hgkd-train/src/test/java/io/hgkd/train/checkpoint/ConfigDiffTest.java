package io.hgkd.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every differing field is named with its dotted path and both values; allowed fields pass. */
class ConfigDiffTest {
    private static final JsonNode SAVED = Fixtures.json("""
            {"seed": 0, "epochs": 100, "output": {"dir": "/a", "keep": [1, 2]},
             "optim": {"name": "lamb", "lr": 0.0002, "betas": [0.9, 0.95]},
             "loss": {"terms": [{"name": "feat", "weight": 1.0}, {"name": "sim", "weight": 0.5}]},
             "data": {"mean": [0.485, 0.456, 0.406], "augment": null}, "old": true}
            """);
    private static final JsonNode CURRENT = Fixtures.json("""
            {"seed": 0, "epochs": 200, "output": {"dir": "/b", "keep": [1, 2, 3]},
             "optim": {"name": "lamb", "lr": 2e-4, "betas": [0.9, 0.999]},
             "loss": {"terms": [{"name": "feat", "weight": 1}, {"name": "sim", "weight": 0.25}]},
             "data": {"mean": [0.485, 0.456], "augment": {"flip": true}}, "new": "x"}
            """);

    private static List<String> paths(List<ConfigDiff.Difference> d) {
        return d.stream().map(ConfigDiff.Difference::path).toList();
    }

    @Test
    void namesEveryDifferingLeaf() {
        List<ConfigDiff.Difference> d = ConfigDiff.compare(SAVED, CURRENT);
        // 0.0002 == 2e-4 and 1.0 == 1 are equal numbers; "augment" changes type, "old" and "new" are one-sided.
        assertEquals(List.of("epochs", "output.dir", "output.keep[2]", "optim.betas[1]", "loss.terms[1].weight",
                "data.mean[2]", "data.augment", "old", "new"), paths(d));
        assertEquals("data.mean[2]: saved 0.406, current (absent)", d.get(5).toString());
        assertEquals("new: saved (absent), current \"x\"", d.get(8).toString());
        assertEquals("optim.betas[1]: saved 0.95, current 0.999", d.get(3).toString());
        assertTrue(ConfigDiff.compare(SAVED, SAVED.deepCopy()).isEmpty());
    }

    @Test
    void rootsOfDifferentKinds() {
        assertEquals("(root): saved [1], current {}", ConfigDiff.compare(Fixtures.json("[1]"), Fixtures.json("{}"))
                .get(0).toString());
        assertEquals(List.of("[1]"), paths(ConfigDiff.compare(Fixtures.json("[1, 2]"), Fixtures.json("[1, 3]"))));
    }

    @Test
    void refusesWithEveryDisallowedFieldAndAcceptsAllowedOnes() {
        Path src = Path.of("/runs/x/checkpoint-000000010/state.json");
        ConfigMismatchException e = assertThrows(ConfigMismatchException.class,
                () -> ConfigDiff.requireCompatible(SAVED, CURRENT, List.of("epochs", "output"), src));
        assertEquals(List.of("optim.betas[1]", "loss.terms[1].weight", "data.mean[2]", "data.augment", "old", "new"),
                paths(e.differences()));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("cannot resume from " + src + ": the config differs in 6 fields"), msg);
        for (String line : List.of("  optim.betas[1]: saved 0.95, current 0.999",
                "  loss.terms[1].weight: saved 0.5, current 0.25", "  data.augment: saved null, current {\"flip\":true}",
                "  old: saved true, current (absent)", "(allowed to change, and changed: epochs output.dir output.keep[2])")) {
            assertTrue(msg.contains(line), "missing '" + line + "' in:\n" + msg);
        }
        // A prefix must end at a path boundary: "optim.beta" does not allow "optim.betas[1]".
        assertEquals(1, ConfigDiff.disallowed(ConfigDiff.compare(SAVED.get("optim"), CURRENT.get("optim")),
                List.of("beta")).size());
        ConfigDiff.requireCompatible(SAVED, CURRENT, List.of("epochs", "output", "optim.betas", "loss", "data", "old",
                "new"), src);
    }
}
