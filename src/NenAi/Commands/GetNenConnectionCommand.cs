using System.Management.Automation;

namespace NenAi.Commands
{
    /// <summary>
    /// Shows the connection settings this session's commands use when given none of their own: the base URL, whether
    /// each secret is set (never any part of it), and where each comes from (Connect-NenService, an NEN_* variable,
    /// the default).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "NenConnection")]
    [OutputType(typeof(Connection))]
    public sealed class GetNenConnectionCommand : PSCmdlet
    {
        protected override void EndProcessing() => WriteObject(Connection.OfSession(SessionState));
    }
}
