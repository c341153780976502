package io.hgkd.core.sparse;

import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Sequential;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A {@link Sequential} that passes the active mask to its {@link SparseModule} children. */
public class SparseSequential extends Sequential implements SparseModule {
    public SparseSequential(Module... modules) {
        super(modules);
    }

    @Override
    public INDArray forward(INDArray x, ActiveMask mask) {
        INDArray h = x;
        for (Module m : layers()) {
            h = m instanceof SparseModule s ? s.forward(h, mask) : m.forward(h);
        }
        return h;
    }
}
