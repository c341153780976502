package io.hgkd.models.checkpoint;

import io.hgkd.core.nn.Module;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A parameter container for load tests: nested modules whose state dict has exactly the given dotted keys and shapes
 * (zeros; BN running statistics as buffers, {@code num_batches_tracked} as a LONG scalar). Its forward pass is the
 * identity: only its state matters here.
 */
final class ShapeModule extends Module {
    private final Map<String, ShapeModule> kids = new LinkedHashMap<>();

    static ShapeModule of(Map<String, long[]> shapes) {
        ShapeModule root = new ShapeModule();
        shapes.forEach(root::add);
        return root;
    }

    private void add(String key, long[] shape) {
        int dot = key.indexOf('.');
        if (dot >= 0) {
            String child = key.substring(0, dot);
            ShapeModule c = kids.get(child);
            if (c == null) {
                c = registerModule(child, new ShapeModule());
                kids.put(child, c);
            }
            c.add(key.substring(dot + 1), shape);
        } else if (key.equals("num_batches_tracked")) {
            registerBuffer(key, Nd4j.scalar(DataType.INT64, 0L));
        } else if (key.equals("running_mean") || key.equals("running_var")) {
            registerBuffer(key, Nd4j.zeros(DataType.FLOAT, shape));
        } else {
            registerParameter(key, Nd4j.zeros(DataType.FLOAT, shape), false);
        }
    }

    @Override
    public INDArray forward(INDArray x) {
        return x;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return gradOutput;
    }
}
