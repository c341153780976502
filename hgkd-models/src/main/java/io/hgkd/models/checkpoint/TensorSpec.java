package io.hgkd.models.checkpoint;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A tensor's dtype and shape without its data: what {@link ArchitectureGuess} and {@code hgkd inspect} need, so that a
 * multi-gigabyte checkpoint can be described from its safetensors header alone.
 *
 * @param dtype the dtype as safetensors spells it ({@code F32}, {@code F16}, {@code BF16}, {@code I64}, ...)
 * @param shape the dimensions, {@code []} for a 0-d scalar (a copy is returned)
 */
public record TensorSpec(String dtype, long[] shape) {
    /** Copies {@code shape}, so the record stays immutable. */
    public TensorSpec {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    /** The spec of an array, with its ND4J type named as safetensors names it (FLOAT is {@code F32}, ...). */
    public static TensorSpec of(INDArray a) {
        return new TensorSpec(dtypeName(a.dataType()), a.shape());
    }

    /** The safetensors name of an ND4J type, or the ND4J name for types safetensors lacks. */
    public static String dtypeName(DataType t) {
        return switch (t) {
            case DOUBLE -> "F64";
            case FLOAT -> "F32";
            case HALF -> "F16";
            case BFLOAT16 -> "BF16";
            case LONG -> "I64";
            case INT -> "I32";
            case SHORT -> "I16";
            case BYTE -> "I8";
            case UBYTE -> "U8";
            case UINT16 -> "U16";
            case UINT32 -> "U32";
            case UINT64 -> "U64";
            case BOOL -> "BOOL";
            default -> t.name();
        };
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** The number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** The number of elements (1 for a scalar). */
    public long numElements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The shape as {@code [768, 3, 16, 16]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && dtype.equals(t.dtype) && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype + " " + shapeString();
    }
}
