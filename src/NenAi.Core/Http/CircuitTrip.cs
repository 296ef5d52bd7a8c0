namespace NenAi.Core.Http
{
    /// <summary>Why a <see cref="BatchCircuit"/> stopped all sending.</summary>
    public enum CircuitTrip
    {
        /// <summary>Still sending.</summary>
        None,
        /// <summary>The service refused every request (429/503, or could not be reached) for longer than the retry budget.</summary>
        Refusals,
        /// <summary>Several requests in a row failed ambiguously (5xx, resets, timeouts): the service is not working.</summary>
        Failures,
        /// <summary>The service (or the proxy) refused the credentials (401, 403, 407): every request would be refused.</summary>
        Credentials,
        /// <summary>The base URL leads to something that is not the Nen API (a bare 404, or a redirect): every request would fail alike.</summary>
        Address,
        /// <summary>A proxy turns every request away (it will not open a tunnel to the service, by its policy).</summary>
        Proxy,
        /// <summary>The caller stopped sending (a journal that cannot be written, an error that stops the command, a downstream stop).</summary>
        Stopped,
    }
}
