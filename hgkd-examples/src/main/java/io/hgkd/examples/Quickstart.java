package io.hgkd.examples;

import io.hgkd.examples.cli.Hgkd;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The whole H-GKD pipeline on the embedded Fashion-MNIST subset, in minutes on a laptop CPU: MAE-pretrain a small ViT
 * teacher, distil it into a SparK ResNet student (H-GKD), pretrain a SparK baseline from the same init, fine-tune both
 * and a scratch student with the same recipe, and print top-1 on the 500 test images with the wall time per stage.
 * The same as {@code bin/hgkd quickstart}; arguments are those of that command ({@code --output}, {@code --set},
 * {@code --config}, {@code --print-config}, {@code --help}).
 */
public final class Quickstart {
    private Quickstart() {
    }

    /** Runs {@code hgkd quickstart args} and exits with its exit code. */
    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "quickstart";
        System.arraycopy(args, 0, all, 1, args.length);
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(Hgkd.execute(all, out, err));
    }
}
