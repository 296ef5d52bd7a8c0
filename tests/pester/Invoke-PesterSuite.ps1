#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suite (tests/pester/*.Tests.ps1) against the built module (out/NenAi) and writes NUnit results.
.DESCRIPTION
    build.ps1 -Task Test starts this in a fresh pwsh process, so the suite runs with a user's default preferences,
    not the build script's. The exit code is the number of failed tests (Pester's Run.Exit).
#>
param(
    # Pester.psd1 of the version the repository pins (tests/pester/Pester.Restore.csproj restores it).
    [Parameter(Mandatory)]
    [string] $PesterModule,

    # NUnit XML results.
    [Parameter(Mandatory)]
    [string] $ResultPath,

    # Test files or folders; default: the whole suite.
    [string[]] $Path = $PSScriptRoot
)

Import-Module $PesterModule -Force
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.Exit = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
Invoke-Pester -Configuration $config
