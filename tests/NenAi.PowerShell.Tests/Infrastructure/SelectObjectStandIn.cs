using System;
using System.Management.Automation;
using System.Reflection;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Select-Object -First N for the hosted engine, which has no Microsoft.PowerShell.Utility: after N objects it stops
    /// the commands before it as the real one does, with PowerShell's own StopUpstreamCommandsException (internal, so
    /// made by reflection). Import it with <see cref="ImportScript"/>. Real pwsh uses the real one (tests/pester).
    /// </summary>
    [Cmdlet(VerbsCommon.Select, "Object")]
    public sealed class SelectObjectStandIn : PSCmdlet
    {
        private static readonly Type StopUpstream =
            typeof(PSObject).Assembly.GetType("System.Management.Automation.StopUpstreamCommandsException", throwOnError: true)!;
        private int _taken;

        /// <summary>Imports this stand-in into a hosted session.</summary>
        public static string ImportScript => $"Import-Module '{typeof(SelectObjectStandIn).Assembly.Location}'";

        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        [Parameter(Mandatory = true)]
        public int First { get; set; }

        protected override void ProcessRecord()
        {
            if (_taken >= First) return;
            WriteObject(InputObject);
            if (++_taken == First)
                throw (Exception)Activator.CreateInstance(StopUpstream, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, new object[] { this }, null)!;
        }
    }
}
