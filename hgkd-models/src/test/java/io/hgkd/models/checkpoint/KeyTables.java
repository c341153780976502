package io.hgkd.models.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hgkd.core.testing.Fixtures;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Key/shape tables: ViT and MAE built from docs/method.md section 4.4, ResNet and SparK from the JSON fixtures. */
final class KeyTables {
    private KeyTables() {
    }

    /** A timm/MAE ViT encoder state dict: cls_token, pos_embed, patch_embed, blocks, norm (head if classes > 0). */
    static Map<String, TensorSpec> vit(int dim, int depth, int patch, int img, int classes) {
        Map<String, TensorSpec> m = new LinkedHashMap<>();
        int grid = img / patch;
        put(m, "cls_token", 1, 1, dim);
        put(m, "pos_embed", 1, 1 + (long) grid * grid, dim);
        put(m, "patch_embed.proj.weight", dim, 3, patch, patch);
        put(m, "patch_embed.proj.bias", dim);
        for (int i = 0; i < depth; i++) {
            block(m, "blocks." + i + ".", dim);
        }
        put(m, "norm.weight", dim);
        put(m, "norm.bias", dim);
        if (classes > 0) {
            put(m, "head.weight", classes, dim);
            put(m, "head.bias", classes);
        }
        return m;
    }

    /**
     * MAE's MaskedAutoencoderViT state dict in its order: cls_token, pos_embed, mask_token, decoder_pos_embed,
     * patch_embed, blocks, norm, decoder_embed, decoder_blocks, decoder_norm, decoder_pred.
     */
    static Map<String, TensorSpec> mae(int dim, int depth, int patch, int img, int decDim, int decDepth) {
        Map<String, TensorSpec> enc = vit(dim, depth, patch, img, 0);
        long tokens = enc.get("pos_embed").dim(1);
        Map<String, TensorSpec> m = new LinkedHashMap<>();
        m.put("cls_token", enc.get("cls_token"));
        m.put("pos_embed", enc.get("pos_embed"));
        put(m, "mask_token", 1, 1, decDim);
        put(m, "decoder_pos_embed", 1, tokens, decDim);
        enc.forEach((k, v) -> m.putIfAbsent(k, v));
        put(m, "decoder_embed.weight", decDim, dim);
        put(m, "decoder_embed.bias", decDim);
        for (int i = 0; i < decDepth; i++) {
            block(m, "decoder_blocks." + i + ".", decDim);
        }
        put(m, "decoder_norm.weight", decDim);
        put(m, "decoder_norm.bias", decDim);
        put(m, "decoder_pred.weight", (long) patch * patch * 3, decDim);
        put(m, "decoder_pred.bias", (long) patch * patch * 3);
        return m;
    }

    private static void block(Map<String, TensorSpec> m, String p, int d) {
        put(m, p + "norm1.weight", d);
        put(m, p + "norm1.bias", d);
        put(m, p + "attn.qkv.weight", 3L * d, d);
        put(m, p + "attn.qkv.bias", 3L * d);
        put(m, p + "attn.proj.weight", d, d);
        put(m, p + "attn.proj.bias", d);
        put(m, p + "norm2.weight", d);
        put(m, p + "norm2.bias", d);
        put(m, p + "mlp.fc1.weight", 4L * d, d);
        put(m, p + "mlp.fc1.bias", 4L * d);
        put(m, p + "mlp.fc2.weight", d, 4L * d);
        put(m, p + "mlp.fc2.bias", d);
    }

    private static void put(Map<String, TensorSpec> m, String key, long... shape) {
        m.put(key, new TensorSpec("F32", shape));
    }

    /** A key table written by tools/reference/make_ckpt_fixtures.py. */
    record KeyFile(String arch, long numParams, Map<String, TensorSpec> tensors) {
    }

    static KeyFile json(String name) throws IOException {
        JsonNode root = JsonMapper.builder().build().readTree(Fixtures.file("checkpoints/" + name));
        Map<String, TensorSpec> m = new LinkedHashMap<>();
        for (JsonNode t : root.get("tensors")) {
            long[] shape = new long[t.get(1).size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get(1).get(i).asLong();
            }
            m.put(t.get(0).asText(), new TensorSpec(t.get(2).asText(), shape));
        }
        return new KeyFile(root.get("arch").asText(), root.get("num_params").asLong(), m);
    }

    static Map<String, long[]> shapes(Map<String, TensorSpec> specs) {
        Map<String, long[]> out = new LinkedHashMap<>();
        specs.forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }
}
