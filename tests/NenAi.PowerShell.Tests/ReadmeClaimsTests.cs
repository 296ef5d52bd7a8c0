using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>README statements about behaviour that no other test covers, each proven here.</summary>
    public class ReadmeClaimsTests : HostedTest
    {
        [Fact]
        public void RowsStreamThroughStartNenRunAtMostThrottleLimitAtATime()
        {
            // "rows stream through, at most -ThrottleLimit at a time, so memory stays flat"
            State.Faults.Replace(new FaultSettings { LatencyMs = 100, ApplyTo = "post" });

            PsResult r = Run(@"
                $script:pulled = 0; $script:pulledAtFirstRun = $null
                1..40 | ForEach-Object { $script:pulled++; [pscustomobject]@{ NAME = ""row $_"" } } |
                    Start-NenRun -WorkflowId $echo -ThrottleLimit 4 |
                    ForEach-Object { if ($null -eq $script:pulledAtFirstRun) { $script:pulledAtFirstRun = $script:pulled } }
                $script:pulledAtFirstRun").AssertClean();

            Assert.Equal(40, State.Ledger.Count);
            Assert.Equal(4, State.MaxConcurrentPosts); // reached, never exceeded
            // The first run came out when only a handful of rows had been read: -ThrottleLimit on the wire, as many
            // again waiting their turn, and the one in hand. Nothing else is buffered.
            Assert.InRange((int)Assert.Single(r.BaseOutput), 1, 2 * 4 + 1);
        }

        [Fact]
        public void TheHighestThrottleLimitReallyAppliesTheConnectionLimitIsNotInTheWay()
        {
            // "The connection limit per server is raised ..., so -ThrottleLimit really applies."
            string[] ids = Run("$rows | Start-NenRun -WorkflowId $echo -ThrottleLimit 1", ("rows", CsvRows.Numbered(64))).AssertClean()
                .Strings("MessageId").Select(s => s!).ToArray();
            State.Faults.Replace(new FaultSettings { LatencyMs = 1500, ApplyTo = "get" });

            Run("$ids | Get-NenRun -ThrottleLimit 64", ("ids", ids)).AssertClean();

            Assert.True(State.MaxRequestsInFlight > 32, $"only {State.MaxRequestsInFlight} requests were in flight at once");
        }

        [Theory]
        [InlineData("Start-NenRun")]
        [InlineData("Wait-NenRun")]
        [InlineData("Get-NenRun")]
        [InlineData("Get-NenRunResult")]
        public void EveryNetworkedCmdletTakesTheConnectionParametersAndARequestTimeout(string cmdlet)
        {
            // "Every networked cmdlet takes -BaseUri, -ApiKey, -SigningKey, -Proxy, -ProxyCredential, -NoProxy, -MaximumRetryCount and a request timeout"
            PsResult r = Run("(Get-Command $name).Parameters.Keys", ("name", cmdlet)).AssertClean();

            var parameters = r.BaseOutput.Cast<string>().ToHashSet();
            foreach (string p in new[] { "BaseUri", "ApiKey", "SigningKey", "Proxy", "ProxyCredential", "NoProxy", "MaximumRetryCount", "AllowInsecureHttp", "RequestTimeoutSec" })
                Assert.Contains(p, parameters);
        }

        [Fact]
        public void TheModuleNeedsOnlyWindowsPowerShell51OrPowerShell74AndLoadsTheNet8BuildHere()
        {
            // "the built module itself needs only Windows PowerShell 5.1 or PowerShell 7.4+";
            // "The module loads the net472 build on Windows PowerShell 5.1 and the net8.0 build on PowerShell 7.4+."
            PsResult r = Run(@"
                $manifest = Test-ModuleManifest $path
                [pscustomobject]@{
                    PowerShellVersion = $manifest.PowerShellVersion.ToString()
                    Editions = @($manifest.CompatiblePSEditions)
                    DotNetFrameworkVersion = $manifest.DotNetFrameworkVersion.ToString()
                    Loaded = [NenAi.Commands.StartNenRunCommand].Assembly.Location
                }", ("path", PsSession.Manifest)).AssertClean();

            PSObject info = Assert.Single(r.Output);
            Assert.Equal("5.1", PsResult.Prop(info, "PowerShellVersion"));
            Assert.Equal(new object[] { "Desktop", "Core" }, (object[])PsResult.Prop(info, "Editions")!);
            Assert.Equal("4.7.2", PsResult.Prop(info, "DotNetFrameworkVersion"));
            Assert.Equal(Path.Combine(PsSession.ModuleDirectory, "bin", "net8.0", "NenAi.dll"), PsResult.Prop(info, "Loaded"));
            // Each build targets what its edition runs on: .NET 8 (PowerShell 7.4) and .NET Framework 4.7.2.
            Assert.Equal(".NETCoreApp,Version=v8.0", TargetFramework(Path.Combine(PsSession.ModuleDirectory, "bin", "net8.0", "NenAi.dll")));
            Assert.Equal(".NETFramework,Version=v4.7.2", TargetFramework(Path.Combine(PsSession.ModuleDirectory, "bin", "net472", "NenAi.dll")));
        }

        [Fact]
        public void TheLaidOutModuleFolderHasBothBuildsHelpAndFormatViews()
        {
            // "./build.ps1 -Task Build lays out out/NenAi (net472 + net8.0 builds, help, format views)": the same
            // layout target (src/NenAi/NenAi.ModuleLayout.targets) lays out the folder these tests import.
            string dir = PsSession.ModuleDirectory;
            foreach (string file in new[] { "NenAi.psd1", "NenAi.psm1", "NenAi.Requirements.ps1", "NenAi.Format.ps1xml", "en-US/NenAi.dll-Help.xml", "en-US/about_NenAi.help.txt",
                         "bin/net8.0/NenAi.dll", "bin/net8.0/NenAi.Core.dll", "bin/net8.0/en-US/NenAi.dll-Help.xml",
                         "bin/net472/NenAi.dll", "bin/net472/NenAi.Core.dll", "bin/net472/System.Text.Json.dll", "bin/net472/en-US/NenAi.dll-Help.xml" })
                Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} is missing from the module folder");
            string build = File.ReadAllText(Path.Combine(DocExamples.RepoRoot, "build.ps1"));
            Assert.Contains("-t:LayOutNenAiModule", build);
            Assert.Contains("$moduleOut = Join-Path $outRoot 'NenAi'", build);
            // The format views are loaded with the module.
            PsResult r = Run("(Get-Module NenAi).ExportedFormatFiles").AssertClean();
            Assert.Equal(Path.Combine(dir, "NenAi.Format.ps1xml"), Assert.Single(r.BaseOutput));
        }

        private static string TargetFramework(string dll)
        {
            using var pe = new PEReader(File.OpenRead(dll));
            MetadataReader md = pe.GetMetadataReader();
            foreach (CustomAttributeHandle h in md.GetAssemblyDefinition().GetCustomAttributes())
            {
                CustomAttribute attribute = md.GetCustomAttribute(h);
                var ctor = md.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
                var type = md.GetTypeReference((TypeReferenceHandle)ctor.Parent);
                if (md.GetString(type.Name) != "TargetFrameworkAttribute") continue;
                BlobReader blob = md.GetBlobReader(attribute.Value);
                blob.ReadUInt16(); // prolog
                return blob.ReadSerializedString()!;
            }
            throw new InvalidOperationException($"{dll} has no TargetFrameworkAttribute");
        }
    }
}
