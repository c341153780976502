package io.hgkd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {

    private static final String[] FILES = {"b_class/img2.PNG", "b_class/img1.jpg", "b_class/sub/x.png",
        "b_class/sub-a/y.png", "b_class/sub a/z.png", "b_class/sub/inner/w.gif", "b_class/Img0.jpg",
        "a_class/one.jpeg", "a_class/notes.txt", "a_class/UPPER.GIF", "a_class/deep/er/d.bmp", "a_class/deep/c.jpg",
        "top.jpg", "Z_upper/q.Jpg", "Z_upper/r.jpg.bak"};

    /**
     * What torchvision 0.14's {@code make_dataset} lists for the tree of {@link #FILES} (run once with Python; the
     * empty class c_empty removed, since torchvision refuses it).
     */
    private static final String[] TORCHVISION_ORDER = {"Z_upper/q.Jpg", "a_class/UPPER.GIF", "a_class/one.jpeg",
        "a_class/deep/c.jpg", "a_class/deep/er/d.bmp", "b_class/Img0.jpg", "b_class/img1.jpg", "b_class/img2.PNG",
        "b_class/sub/x.png", "b_class/sub a/z.png", "b_class/sub-a/y.png", "b_class/sub/inner/w.gif"};
    private static final int[] TORCHVISION_LABELS = {0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2};

    private static void tree(Path root) throws IOException {
        for (String f : FILES) {
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            Files.writeString(p, f);
        }
        Files.createDirectories(root.resolve("c_empty"));
    }

    @Test
    void labeledLayoutMatchesTorchvision(@TempDir Path root) throws IOException {
        tree(root);
        ImageFolder f = ImageFolder.labeled(root);
        assertEquals(List.of("Z_upper", "a_class", "b_class", "c_empty"), f.classes());
        assertEquals(4, f.numClasses());
        assertEquals(TORCHVISION_ORDER.length, f.size());
        for (int i = 0; i < f.size(); i++) {
            assertEquals(TORCHVISION_ORDER[i], f.relativePath(i), "file " + i);
            assertEquals(TORCHVISION_LABELS[i], f.label(i), "label " + i);
            assertEquals(root.toAbsolutePath().resolve(TORCHVISION_ORDER[i]), f.path(i));
            assertEquals(TORCHVISION_ORDER[i], Files.readString(f.path(i)));
        }
        assertArrayEquals(new int[] {1, 4, 7, 0}, f.classCounts());
        assertThrows(IndexOutOfBoundsException.class, () -> f.path(f.size()));
        assertThrows(IndexOutOfBoundsException.class, () -> f.label(-1));
    }

    @Test
    void unlabeledTreeTakesEveryImage(@TempDir Path root) throws IOException {
        tree(root);
        ImageFolder f = ImageFolder.unlabeled(root);
        assertEquals(0, f.numClasses());
        List<String> got = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
            got.add(f.relativePath(i));
            assertEquals(-1, f.label(i));
        }
        List<String> expected = new ArrayList<>(List.of("top.jpg"));
        expected.addAll(List.of(TORCHVISION_ORDER));
        assertEquals(expected, got);
    }

    @Test
    void extensionsAreConfigurable(@TempDir Path root) throws IOException {
        tree(root);
        ImageFolder f = ImageFolder.open(root, ImageFolder.Options.imagenetLayout()
                .withExtensions(Set.of(".PNG", "bak")));
        assertEquals(Set.of("png", "bak"), f.options().extensions());
        assertEquals(List.of("Z_upper/r.jpg.bak", "b_class/img2.PNG", "b_class/sub/x.png", "b_class/sub a/z.png",
                "b_class/sub-a/y.png"), paths(f));
    }

    @Test
    void symbolicLinkLoopsAreSkipped(@TempDir Path root) throws IOException {
        tree(root);
        Files.createSymbolicLink(root.resolve("a_class/deep/loop"), root.resolve("a_class"));
        Files.createSymbolicLink(root.resolve("a_class/dangling.jpg"), root.resolve("nowhere.jpg"));
        Files.createSymbolicLink(root.resolve("b_class/link.jpg"), root.resolve("top.jpg"));
        ImageFolder f = ImageFolder.labeled(root);
        List<String> p = paths(f);
        // The loop is reported and not followed; the broken link is skipped; the good link counts as a file.
        assertEquals(TORCHVISION_ORDER.length + 1, f.size(), p.toString());
        assertTrue(p.contains("b_class/link.jpg"));
        assertEquals(List.of(root.toAbsolutePath().resolve("a_class/deep/loop") + ": symbolic link loop"),
                f.skippedPaths());
        assertEquals(f.skippedPaths(), f.withPipeline(Pipeline.imagenetEval(8)).skippedPaths());
    }

    @Test
    void unreadableDirectoryIsSkippedOrFailsInStrictMode(@TempDir Path root) throws IOException {
        tree(root);
        Path locked = root.resolve("b_class/sub");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        try {
            // root ignores permissions, so this can only be observed as another user.
            assumeFalse(Files.isReadable(locked), "running as root: permissions are not enforced");
            ImageFolder f = ImageFolder.labeled(root);
            assertEquals(TORCHVISION_ORDER.length - 2, f.size());
            assertEquals(1, f.skippedPaths().size());
            assertTrue(f.skippedPaths().get(0).contains(locked.toString()), f.skippedPaths().toString());
            IOException e = assertThrows(IOException.class,
                    () -> ImageFolder.open(root, ImageFolder.Options.imagenetLayout().withStrict(true)));
            assertTrue(e.getMessage().contains(locked.toString()), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void clearErrorsForMissingOrEmptyFolders(@TempDir Path root) throws IOException {
        IOException missing = assertThrows(IOException.class, () -> ImageFolder.labeled(root.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        Files.createDirectories(root.resolve("cls"));
        Files.writeString(root.resolve("cls/readme.txt"), "x");
        IOException empty = assertThrows(IOException.class, () -> ImageFolder.labeled(root));
        assertTrue(empty.getMessage().contains("no image files") && empty.getMessage().contains(root.toString()),
                empty.getMessage());
        Files.writeString(root.resolve("file.jpg"), "x");
        IOException noClasses = assertThrows(IOException.class, () -> ImageFolder.labeled(root.resolve("cls")));
        assertTrue(noClasses.getMessage().contains("no class subfolders"), noClasses.getMessage());
        assertThrows(IOException.class, () -> ImageFolder.labeled(root.resolve("file.jpg")));
    }

    @Test
    void manyFilesIndexCompactly(@TempDir Path root) throws IOException {
        // 3 classes x 2 folders x 700 files: order and counts hold at a size where the growable arrays resize.
        for (int c = 0; c < 3; c++) {
            for (int d = 0; d < 2; d++) {
                Path dir = Files.createDirectories(root.resolve("c" + c).resolve("d" + d));
                for (int i = 0; i < 700; i++) {
                    Files.createFile(dir.resolve(String.format("img_%04d_é.jpg", i)));
                }
            }
        }
        ImageFolder f = ImageFolder.labeled(root);
        assertEquals(4200, f.size());
        assertArrayEquals(new int[] {1400, 1400, 1400}, f.classCounts());
        assertEquals("c0/d0/img_0000_é.jpg", f.relativePath(0));
        assertEquals("c1/d1/img_0699_é.jpg", f.relativePath(2799));
        assertEquals(2, f.label(4199));
        assertTrue(Files.exists(f.path(3000)));
    }

    private static List<String> paths(ImageFolder f) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < f.size(); i++) {
            out.add(f.relativePath(i));
        }
        return out;
    }
}
