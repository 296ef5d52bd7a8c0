using System.Management.Automation;

namespace NenAi.Commands
{
    /// <summary>
    /// Forgets what Connect-NenService kept for this session and destroys its secrets: commands then use their own
    /// parameters and the NEN_* environment variables only. Nothing to forget is not an error.
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "NenService")]
    public sealed class DisconnectNenServiceCommand : PSCmdlet
    {
        protected override void EndProcessing() =>
            WriteVerbose(SessionConnections.Forget(SessionState)
                ? "Forgot this session's connection (Connect-NenService); its secrets are destroyed."
                : "This session had no connection (Connect-NenService) to forget.");
    }
}
