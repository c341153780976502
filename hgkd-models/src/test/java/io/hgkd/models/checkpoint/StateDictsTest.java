package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class StateDictsTest {
    private static Map<String, Integer> keys(String... names) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], i);
        }
        return m;
    }

    @Test
    void unwrapStripsAPrefixOnlyWhenEveryKeyHasIt() {
        assertEquals(keys("a.w", "b"), StateDicts.unwrap(keys("model.a.w", "model.b")));
        assertEquals(keys("a.w", "b"), StateDicts.unwrap(keys("module.a.w", "module.b")));
        assertEquals(keys("a.w", "b"), StateDicts.unwrap(keys("state_dict.a.w", "state_dict.b")));
        assertEquals(keys("a.w", "b"), StateDicts.unwrap(keys("model.module.a.w", "model.module.b")));
        assertEquals("model.module.", StateDicts.wrapperPrefix(keys("model.module.a", "model.module.b").keySet()));
        // Only part of the keys wrapped: unchanged (select it explicitly).
        Map<String, Integer> partial = keys("module.a", "optimizer.state.0.exp_avg");
        assertEquals(partial, StateDicts.unwrap(partial));
        // A prefix that is not a known wrapper stays.
        assertEquals(keys("encoder.a", "encoder.b"), StateDicts.unwrap(keys("encoder.a", "encoder.b")));
        assertEquals("", StateDicts.wrapperPrefix(List.of()));
        // "model" itself as a key is not a wrapper around anything.
        assertEquals(keys("model", "model.x"), StateDicts.unwrap(keys("model", "model.x")));
    }

    @Test
    void selectKeepsASubModuleWithoutItsPrefixAndNamesWhatExistsOtherwise() {
        Map<String, Integer> sd = keys("sparse_encoder.sp_cnn.conv1.weight", "sparse_encoder.sp_cnn.bn1.bias",
                "dense_decoder.proj.weight", "mask_tokens.0");
        assertEquals(keys("conv1.weight", "bn1.bias").keySet(),
                StateDicts.select(sd, "sparse_encoder.sp_cnn.").keySet());
        assertEquals(keys("conv1.weight", "bn1.bias").keySet(),
                StateDicts.select(sd, "sparse_encoder.sp_cnn").keySet(), "a missing trailing dot is added");
        assertEquals(sd, StateDicts.select(sd, ""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.select(sd, "encoder."));
        assertEquals("no key starts with 'encoder.'; top-level prefixes: sparse_encoder (2), dense_decoder (1), "
                + "mask_tokens (1)", e.getMessage());
        // "mask_tokens.0" must not be selected by the prefix "mask_tokens.0." (it would become an empty key).
        assertThrows(IllegalArgumentException.class, () -> StateDicts.select(sd, "mask_tokens.0."));
    }

    @Test
    void locateFindsAPrefixBehindWrappersAndRejectsAmbiguity() {
        assertEquals("encoder.", StateDicts.locate(keys("encoder.a").keySet(), "encoder"));
        assertEquals("module.encoder.",
                StateDicts.locate(keys("module.encoder.a", "optimizer.x").keySet(), "encoder."));
        assertEquals("model.module.encoder.",
                StateDicts.locate(keys("model.module.encoder.a", "epoch").keySet(), "encoder."));
        assertNull(StateDicts.locate(keys("module.decoder.a").keySet(), "encoder."));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.locate(keys("model.encoder.a", "module.encoder.a").keySet(), "encoder."));
        assertTrue(e.getMessage().contains("[model.encoder., module.encoder.]"), e.getMessage());
    }

    @Test
    void maeDecoderKeys() {
        for (String k : List.of("decoder_embed.weight", "decoder_blocks.7.mlp.fc2.bias", "decoder_norm.weight",
                "decoder_pred.bias", "decoder_pos_embed", "mask_token")) {
            assertTrue(StateDicts.isMaeDecoderKey(k), k);
        }
        for (String k : List.of("cls_token", "pos_embed", "blocks.0.attn.qkv.weight", "norm.weight", "head.weight",
                "mask_tokens.0", "dense_decoder.proj.weight")) {
            assertTrue(!StateDicts.isMaeDecoderKey(k), k);
        }
        assertEquals(keys("cls_token", "norm.bias").keySet(),
                StateDicts.withoutMaeDecoder(keys("cls_token", "mask_token", "decoder_embed.weight", "norm.bias"))
                        .keySet());
    }

    @Test
    void toFloatWidensFloatingTypesAndKeepsIntegers() {
        Map<String, INDArray> sd = new LinkedHashMap<>();
        sd.put("half", Nd4j.createFromArray(1.5f, -0.25f).castTo(DataType.FLOAT16));
        sd.put("double", Nd4j.createFromArray(1.0 / 3.0));
        sd.put("float", Nd4j.createFromArray(2f));
        sd.put("steps", Nd4j.scalar(DataType.INT64, 7L));
        Map<String, INDArray> f = StateDicts.toFloat(sd);
        assertEquals(DataType.FLOAT, f.get("half").dataType());
        assertEquals(-0.25f, f.get("half").getFloat(1));
        assertEquals(DataType.FLOAT, f.get("double").dataType());
        assertEquals((float) (1.0 / 3.0), f.get("double").getFloat(0));
        assertSame(sd.get("float"), f.get("float"));
        assertSame(sd.get("steps"), f.get("steps"));
        assertEquals(List.of("half", "double", "float", "steps"), List.copyOf(f.keySet()));
    }

    @Test
    void prefixHelpers() {
        assertEquals(keys("m.a", "m.b"), StateDicts.addPrefix(keys("a", "b"), "m."));
        assertEquals(Map.of("model", 2, "epoch", 1),
                StateDicts.topLevelPrefixes(List.of("model.a", "model.b.c", "epoch")));
        assertEquals("a (1), b (1), ... (2 more)", StateDicts.describePrefixes(List.of("a", "b", "c", "d"), 2));
        assertEquals("none", StateDicts.describePrefixes(List.of(), 3));
    }
}
