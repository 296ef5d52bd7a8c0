#Requires -Version 5.1
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the NenAi module.
.EXAMPLE
    ./build.ps1 -Task Build            # lays out out/NenAi, ready for Import-Module ./NenAi.psd1
.EXAMPLE
    ./build.ps1 -Task Build, Test      # dotnet test, then the Pester 5 suite where pwsh 7.4+ and Pester 5 exist
.EXAMPLE
    ./build.ps1 -Task Demo             # starts the emulator and runs the CSV example end to end
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Demo')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$outRoot = Join-Path $root 'out'
$moduleOut = Join-Path $outRoot 'NenAi'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')"
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with code $LASTEXITCODE." }
}

function Invoke-BuildTask {
    foreach ($project in 'src/NenAi/NenAi.csproj', 'src/NenAi.HelpGen/NenAi.HelpGen.csproj', 'src/NenAi.Emulator/NenAi.Emulator.csproj') {
        Invoke-Native dotnet @('build', (Join-Path $root $project), '-c', $Configuration, '--nologo')
    }
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    # The same layout the hosted-engine tests import (src/NenAi/NenAi.ModuleLayout.targets): manifest, loader,
    # format views, bin/net472 and bin/net8.0, and help beside the manifest and beside each cmdlet assembly.
    Invoke-Native dotnet @('msbuild', (Join-Path $root 'src/NenAi/NenAi.csproj'), '-t:LayOutNenAiModule', '-nologo', '-v:m',
        "-p:Configuration=$Configuration", "-p:NenAiModuleDir=$moduleOut/", "-p:NenAiHelpGen=$(Get-HelpGenPath)")
    if (Get-PlatyPS) { Invoke-DocsTask }
    # Import-Module ./NenAi.psd1 from the repository root finds its help here.
    Copy-Item (Join-Path $moduleOut 'en-US') -Destination $root -Recurse -Force
    Write-Host "Module laid out in $moduleOut. Import it with: Import-Module $(Join-Path $root 'NenAi.psd1')"
}

function Get-HelpGenPath { Join-Path $root "src/NenAi.HelpGen/bin/$Configuration/net10.0/NenAi.HelpGen.dll" }

function Get-PlatyPS { Get-Module -ListAvailable -Name platyPS | Sort-Object Version -Descending | Select-Object -First 1 }

function Invoke-DocsTask {
    $helpOut = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US') -Force
    $docs = Join-Path $root 'docs/en-US'
    $platy = Get-PlatyPS
    if ($platy) {
        Import-Module $platy
        New-ExternalHelp -Path $docs -OutputPath $helpOut -Force | Out-Null
        # about_ topics ship as plain text next to the MAML.
        Get-ChildItem $docs -Filter 'about_*.md' | ForEach-Object {
            Copy-Item $_.FullName (Join-Path $helpOut ($_.BaseName + '.help.txt'))
        }
    }
    else {
        Write-Host 'platyPS is not installed: generating MAML with the repository''s own generator.'
        if (-not (Test-Path (Get-HelpGenPath))) { Invoke-Native dotnet @('build', (Join-Path $root 'src/NenAi.HelpGen/NenAi.HelpGen.csproj'), '-c', $Configuration, '--nologo') }
        Invoke-Native dotnet @('exec', (Get-HelpGenPath), $docs, $helpOut.FullName)
    }
    # Get-Help looks for NenAi.dll-Help.xml beside the manifest and beside the cmdlet assembly.
    foreach ($tfm in 'net472', 'net8.0') {
        $bin = Join-Path $moduleOut "bin/$tfm"
        if (Test-Path $bin) { Copy-Item $helpOut -Destination $bin -Recurse -Force }
    }
}

function Invoke-TestTask {
    Invoke-Native dotnet @('test', (Join-Path $root 'NenAi.sln'), '-c', $Configuration, '--nologo')

    $pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0' } | Sort-Object Version -Descending | Select-Object -First 1
    if ($PSVersionTable.PSVersion -lt [version]'7.4' -or -not $pester) {
        Write-Warning "Skipping the Pester suite: it needs PowerShell 7.4+ and Pester 5 (found PowerShell $($PSVersionTable.PSVersion), Pester $(if ($pester) { $pester.Version } else { 'none' }))."
        return
    }
    if (-not (Test-Path (Join-Path $moduleOut 'bin/net8.0/NenAi.dll'))) { Invoke-BuildTask }
    Import-Module $pester
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/pester'
    $config.Run.Exit = $false
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = Join-Path $outRoot 'pester-results.xml'
    $result = Invoke-Pester -Configuration $config
    if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed." }
}

function Invoke-PackageTask {
    if (-not (Test-Path (Join-Path $moduleOut 'bin/net8.0/NenAi.dll'))) { Invoke-BuildTask }
    $version = (Import-PowerShellDataFile (Join-Path $root 'NenAi.psd1')).ModuleVersion
    $zip = Join-Path $outRoot "NenAi.$version.zip"
    if (Test-Path $zip) { Remove-Item $zip -Force }
    Compress-Archive -Path (Join-Path $moduleOut '*') -DestinationPath $zip
    Write-Host "Packaged $zip. To publish: Publish-PSResource -Path '$moduleOut' -Repository PSGallery -ApiKey (Get-Secret PSGalleryKey -AsPlainText)"
}

function Invoke-DemoTask {
    $emulatorDll = Join-Path $root "src/NenAi.Emulator/bin/$Configuration/net10.0/NenAi.Emulator.dll"
    if (-not (Test-Path (Join-Path $moduleOut 'bin/net8.0/NenAi.dll')) -or -not (Test-Path $emulatorDll)) { Invoke-BuildTask }
    Import-Module (Join-Path $root 'tools/EmulatorProcess.psm1') -Force
    $emulator = Start-EmulatorProcess -Configuration $Configuration
    try {
        # Demo credentials of the local emulator (emulator.sample.json); never real ones.
        $env:NEN_BASE_URL = $emulator.BaseUri
        $env:NEN_API_KEY = 'nen-demo-api-key'
        $env:NEN_SIGNING_KEY = 'nen-demo-signing-key'
        Import-Module (Join-Path $root 'NenAi.psd1') -Force
        $out = Join-Path $outRoot 'demo-results'
        # A fresh emulator knows no earlier runs, so the demo starts a fresh batch (and journal) each time.
        $journal = Join-Path $outRoot 'demo.journal.jsonl'
        Remove-Item $journal -ErrorAction Ignore
        $demo = Import-Csv (Join-Path $root 'docs/examples/jobs.csv') |
            & (Join-Path $root 'tools/DemoBatch.ps1') -Destination $out -JournalPath $journal
        $demo.Files | Format-Table -AutoSize | Out-Host
        Write-Host "Results are in ${out}: $($demo.Files.Count) file(s) saved. $($demo.Errors.Count) run(s) reported an error (shown above; the CSV's FAIL row fails on purpose)."
    }
    finally {
        Stop-EmulatorProcess $emulator
        Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY -ErrorAction SilentlyContinue
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Docs' { Invoke-DocsTask }
        'Package' { Invoke-PackageTask }
        'Demo' { Invoke-DemoTask }
    }
}
