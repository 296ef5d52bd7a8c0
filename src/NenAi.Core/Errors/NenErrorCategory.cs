namespace NenAi.Core.Errors
{
    /// <summary>
    /// Mirrors the names of System.Management.Automation.ErrorCategory so the cmdlets map by name
    /// while the core stays free of PowerShell.
    /// </summary>
    public enum NenErrorCategory
    {
        NotSpecified,
        InvalidArgument,
        InvalidData,
        InvalidOperation,
        ObjectNotFound,
        PermissionDenied,
        SecurityError,
        AuthenticationError,
        LimitsExceeded,
        QuotaExceeded,
        ResourceUnavailable,
        ConnectionError,
        OperationTimeout,
        ProtocolError,
        InvalidResult,
        WriteError,
        ResourceExists,
        OperationStopped,
    }
}
