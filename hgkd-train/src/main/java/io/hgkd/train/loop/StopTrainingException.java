package io.hgkd.train.loop;

/**
 * Thrown by a listener (or the loop) to end the run on purpose. {@link CompositeListener} lets it through after
 * every listener has seen the event, whereas other listener failures are only recorded.
 */
public class StopTrainingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message saying why the run stops. */
    public StopTrainingException(String message) {
        super(message);
    }
}
