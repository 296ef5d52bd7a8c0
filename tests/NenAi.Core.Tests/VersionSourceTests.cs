using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using NenAi.Core.Http;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// NenAi.psd1's ModuleVersion is the one version: the build reads it (Directory.Build.props), so the assemblies and
    /// the User-Agent carry it, build.ps1's package is named by it, and CHANGELOG.md's latest entry is its release notes.
    /// </summary>
    public class VersionSourceTests
    {
        private static string Manifest => File.ReadAllText(Path.Combine(RepoPaths.Root, "NenAi.psd1"));

        private static string ManifestVersion => Regex.Match(Manifest, @"ModuleVersion\s*=\s*'([0-9.]+)'").Groups[1].Value;

        [Fact]
        public void TheUserAgentCarriesTheManifestsVersion() => Assert.Equal(ManifestVersion, UserAgent.Version);

        [Fact]
        public void ChangingTheManifestsVersionChangesTheVersionEveryProjectIsBuiltWith()
        {
            string dir = Path.Combine(Path.GetTempPath(), "nenai-version-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                File.Copy(Path.Combine(RepoPaths.Root, "Directory.Build.props"), Path.Combine(dir, "Directory.Build.props"));
                File.WriteAllText(Path.Combine(dir, "NenAi.psd1"), Regex.Replace(Manifest, @"ModuleVersion\s*=\s*'[0-9.]+'", "ModuleVersion = '9.8.7'"));
                File.WriteAllText(Path.Combine(dir, "Probe.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>");

                var start = new ProcessStartInfo("dotnet", "msbuild Probe.csproj -nologo -t:GetAssemblyVersion -getProperty:Version -getProperty:AssemblyVersion -getProperty:InformationalVersion")
                {
                    WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                using Process msbuild = Process.Start(start)!;
                string output = msbuild.StandardOutput.ReadToEnd();
                Assert.True(msbuild.WaitForExit(120_000), "msbuild did not finish");
                Assert.Equal(0, msbuild.ExitCode);

                Assert.Contains("\"Version\": \"9.8.7\"", output);
                Assert.Contains("\"AssemblyVersion\": \"9.8.7.0\"", output);
                Assert.Contains("\"InformationalVersion\": \"9.8.7\"", output); // what UserAgent reports
            }
            finally { Directory.Delete(dir, recursive: true); }
        }

        [Fact]
        public void TheLatestChangelogEntryIsThisVersionAndItsReleaseNotes()
        {
            string changelog = File.ReadAllText(Path.Combine(RepoPaths.Root, "CHANGELOG.md")).Replace("\r\n", "\n");
            Match latest = Regex.Match(changelog, @"^## (?<version>[0-9.]+)[^\n]*\n(?<notes>.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
            Assert.True(latest.Success, "CHANGELOG.md has no '## <version>' entry");
            Assert.Equal(ManifestVersion, latest.Groups["version"].Value);

            string releaseNotes = Regex.Match(Manifest, @"ReleaseNotes\s*=\s*@'\r?\n(?<notes>.*?)\r?\n'@", RegexOptions.Singleline).Groups["notes"].Value.Replace("\r\n", "\n");
            Assert.Equal(latest.Groups["notes"].Value.Trim(), releaseNotes.Trim());
        }
    }
}
