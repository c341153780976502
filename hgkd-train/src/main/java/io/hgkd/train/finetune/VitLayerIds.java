package io.hgkd.train.finetune;

import io.hgkd.core.optim.ParamGroups;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Maps a ViT parameter name (timm/MAE names, optionally under a module prefix such as {@code encoder.}) to its layer
 * id for layer-wise learning-rate decay, as MAE's {@code util/lr_decay.py get_layer_id_for_vit}: {@code cls_token},
 * {@code pos_embed} and {@code patch_embed.*} are layer 0, {@code blocks.i.*} is layer {@code i + 1}, everything
 * else (the final norm, the head) is layer {@code depth + 1}. With {@link ParamGroups.LayerDecay} over
 * {@code numLayers = depth} a parameter gets {@code decay^(depth + 1 - id)}: MAE's {@code layer_decay^(num_layers -
 * layer_id)} with its {@code num_layers = depth + 1}.
 *
 * @param depth  number of transformer blocks
 * @param prefix prefix of the ViT's names in the model's state dict ({@code ""} for a bare ViT)
 */
public record VitLayerIds(int depth, String prefix) implements ToIntFunction<String> {

    /** Validates. */
    public VitLayerIds {
        Objects.requireNonNull(prefix, "prefix");
        if (depth < 1) {
            throw new IllegalArgumentException("ViT depth must be >= 1, got " + depth);
        }
    }

    /**
     * The layer id of {@code name}.
     *
     * @throws IllegalArgumentException when a {@code blocks.<i>.} name has no valid block index
     */
    public int layerId(String name) {
        String n = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
        if (n.equals("cls_token") || n.equals("pos_embed") || n.startsWith("patch_embed.")) {
            return 0;
        }
        if (n.startsWith("blocks.")) {
            String[] parts = n.split("\\.");
            int i;
            try {
                i = Integer.parseInt(parts[1]);
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("cannot read the block index of ViT parameter '" + name + "'", e);
            }
            if (i < 0 || i >= depth) {
                throw new IllegalArgumentException("ViT parameter '" + name + "' names block " + i + " of a depth-"
                        + depth + " model");
            }
            return i + 1;
        }
        return depth + 1;
    }

    @Override
    public int applyAsInt(String name) {
        return layerId(name);
    }

    /** The {@link ParamGroups.LayerDecay} with this map. */
    public ParamGroups.LayerDecay layerDecay(double decay) {
        return new ParamGroups.LayerDecay(decay, depth, this);
    }
}
