#Requires -Version 5.1
<#
.SYNOPSIS
    Builds, tests, documents, packages and demonstrates the NenAi module.
.DESCRIPTION
    On a machine with only the .NET 10 SDK, run it with the PowerShell the repository pins
    (.config/dotnet-tools.json):

        dotnet tool exec powershell ./build.ps1 -Task Demo    # build, start the bundled emulator, run the demo batch
        dotnet tool exec powershell ./build.ps1 -Task Test    # every test: xunit (core and hosted engine) and Pester

    Any PowerShell 7.4+ (or Windows PowerShell 5.1 for Build/Package) runs it as ./build.ps1 too.
.EXAMPLE
    ./build.ps1 -Task Build            # lays out out/NenAi (both builds, help, format views) and out/emulator
.EXAMPLE
    ./build.ps1 -Task Package          # out/packages/NenAi.<version>.nupkg (Install-PSResource) and out/NenAi.<version>.zip
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
$emulatorOut = Join-Path $outRoot 'emulator'
$packagesOut = Join-Path $outRoot 'packages'
$testResults = Join-Path $outRoot 'test-results'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')"
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with code $LASTEXITCODE." }
}

function Invoke-BuildTask {
    foreach ($project in 'src/NenAi/NenAi.csproj', 'src/NenAi.HelpGen/NenAi.HelpGen.csproj', 'src/NenAi.Emulator/NenAi.Emulator.csproj') {
        Invoke-Native dotnet @('build', (Join-Path $root $project), '-c', $Configuration, '--nologo', '-v:q', '-clp:NoSummary')
    }
    if (Test-Path -LiteralPath $moduleOut) { Remove-Item -LiteralPath $moduleOut -Recurse -Force }
    # The same layout the hosted-engine tests import (src/NenAi/NenAi.ModuleLayout.targets): manifest, loader,
    # format views, bin/net472 and bin/net8.0, and the help NenAi.HelpGen writes (the one generator, so every
    # machine ships the same MAML) beside the manifest and beside each cmdlet assembly.
    Invoke-Native dotnet @('msbuild', (Join-Path $root 'src/NenAi/NenAi.csproj'), '-t:LayOutNenAiModule', '-nologo', '-v:m',
        "-p:Configuration=$Configuration", "-p:NenAiModuleDir=$moduleOut/", "-p:NenAiHelpGen=$(Get-HelpGenPath)")
    # Import-Module ./NenAi.psd1 from the repository root finds its help here.
    Copy-Item -LiteralPath (Join-Path $moduleOut 'en-US') -Destination $root -Recurse -Force
    # The emulator runs from here (dotnet out/emulator/NenAi.Emulator.dll), so trying the module never rebuilds it.
    if (Test-Path -LiteralPath $emulatorOut) { Remove-Item -LiteralPath $emulatorOut -Recurse -Force }
    Copy-Item -LiteralPath (Join-Path $root "src/NenAi.Emulator/bin/$Configuration/net10.0") -Destination $emulatorOut -Recurse
    Write-Host "Module laid out in $moduleOut (Import-Module $(Join-Path $moduleOut 'NenAi.psd1')); emulator in $emulatorOut."
}

function Get-HelpGenPath { Join-Path $root "src/NenAi.HelpGen/bin/$Configuration/net10.0/NenAi.HelpGen.dll" }

function Invoke-DocsTask {
    # Help comes from docs/en-US through NenAi.HelpGen only; platyPS, where installed, is not used, so the help a
    # package ships does not depend on the machine that built it.
    if (-not (Test-Path -LiteralPath (Get-HelpGenPath))) { Invoke-Native dotnet @('build', (Join-Path $root 'src/NenAi.HelpGen/NenAi.HelpGen.csproj'), '-c', $Configuration, '--nologo', '-v:q') }
    $helpOut = Join-Path $moduleOut 'en-US'
    Invoke-Native dotnet @('exec', (Get-HelpGenPath), (Join-Path $root 'docs/en-US'), $helpOut)
    foreach ($tfm in 'net472', 'net8.0') {
        $bin = Join-Path $moduleOut "bin/$tfm"
        if (Test-Path -LiteralPath $bin) { Copy-Item -LiteralPath $helpOut -Destination $bin -Recurse -Force }
    }
    Copy-Item -LiteralPath $helpOut -Destination $root -Recurse -Force
}

<#
    The PowerShell to start a fresh process with: this one (a dotnet tool runs as 'dotnet <PSHOME>/pwsh.dll'), or
    from Windows PowerShell, the repository's pinned PowerShell 7 tool.
#>
function Get-PwshCommand {
    if ($PSVersionTable.PSEdition -eq 'Core') {
        $exe = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
        return @($exe)
    }
    return @('dotnet', 'tool', 'exec', 'powershell')
}

function Get-PesterModulePath {
    $project = Join-Path $root 'tests/pester/Pester.Restore.csproj'
    Invoke-Native dotnet @('restore', $project, '--nologo', '-v:q')
    $version = ([xml](Get-Content -LiteralPath $project -Raw)).Project.PropertyGroup.NenAiPesterVersion
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $manifest = Join-Path $packages.Trim() "pester/$version/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $manifest)) { throw "Pester $version was restored, but $manifest is missing." }
    $manifest
}

function Invoke-TestTask {
    Invoke-BuildTask
    Invoke-PackageTask -AlreadyBuilt
    if (Test-Path -LiteralPath $testResults) { Remove-Item -LiteralPath $testResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $testResults
    Get-ChildItem -Path (Join-Path $root 'tests/*/TestResults/results.trx') -ErrorAction SilentlyContinue | Remove-Item -Force
    $failures = [System.Collections.Generic.List[string]]::new()

    # 1. xunit: the protocol core, and the cmdlets in a hosted PowerShell engine (a hung test fails the run).
    & dotnet test (Join-Path $root 'NenAi.sln') -c $Configuration --nologo --blame-hang-timeout 5m `
        --logger 'console;verbosity=minimal' --logger 'trx;LogFileName=results.trx'
    if ($LASTEXITCODE -ne 0) { $failures.Add("dotnet test exited with code $LASTEXITCODE") }

    # 2. Pester, in a fresh pwsh: none of this script's preferences ($ErrorActionPreference = 'Stop', strict mode)
    #    reach the suite, which runs as a user's session would.
    $pwsh = @(Get-PwshCommand)
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'tests/pester/Invoke-PesterSuite.ps1'),
        '-PesterModule', (Get-PesterModulePath), '-ResultPath', (Join-Path $testResults 'pester.xml'))
    Write-Host "> $($pwsh[0]) $($arguments -join ' ')"
    & $pwsh[0] @arguments
    if ($LASTEXITCODE -ne 0) { $failures.Add("the Pester suite exited with code $LASTEXITCODE") }

    Write-Host (Get-TestSummary)
    if ($failures.Count -gt 0) { throw "Tests failed: $($failures -join '; ')." }
}

<# One line from the result files: xunit (core, hosted engine) and Pester counts. #>
function Get-TestSummary {
    $parts = @(foreach ($trx in Get-ChildItem -Path (Join-Path $root 'tests/*/TestResults/results.trx') -ErrorAction SilentlyContinue) {
        [xml] $doc = Get-Content -LiteralPath $trx.FullName -Raw
        $counters = $doc.TestRun.ResultSummary.Counters
        '{0}: {1} passed, {2} failed' -f $trx.Directory.Parent.Name, $counters.passed, $counters.failed
    })
    $pesterXml = Join-Path $testResults 'pester.xml'
    if (Test-Path -LiteralPath $pesterXml) {
        [xml] $doc = Get-Content -LiteralPath $pesterXml -Raw
        $results = $doc.'test-results'
        $parts += 'Pester: {0} passed, {1} failed' -f ([int]$results.total - [int]$results.failures - [int]$results.errors - [int]$results.'not-run' - [int]$results.skipped), ([int]$results.failures + [int]$results.errors)
    }
    'Test summary: ' + ($parts -join '; ')
}

function Invoke-PackageTask {
    param([switch] $AlreadyBuilt)
    if (-not $AlreadyBuilt) { Invoke-BuildTask }
    $version = (Import-PowerShellDataFile -LiteralPath (Join-Path $root 'NenAi.psd1')).ModuleVersion
    $null = New-Item -ItemType Directory -Path $packagesOut -Force
    Get-ChildItem -LiteralPath $packagesOut -Filter 'NenAi.*.nupkg' | Remove-Item -Force
    # A package PSResourceGet installs by name: publish into a folder repository registered only for this step.
    $repository = "NenAiBuild-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    Register-PSResourceRepository -Name $repository -Uri $packagesOut -Trusted
    try {
        Publish-PSResource -Path $moduleOut -Repository $repository
    }
    finally {
        Unregister-PSResourceRepository -Name $repository
    }
    # A zip for copying by hand: its top folder is NenAi, so it unpacks into any $env:PSModulePath folder as a module.
    $zip = Join-Path $outRoot "NenAi.$version.zip"
    if (Test-Path -LiteralPath $zip) { Remove-Item -LiteralPath $zip -Force }
    Compress-Archive -LiteralPath $moduleOut -DestinationPath $zip
    Write-Host "Packaged $(Join-Path $packagesOut "NenAi.$version.nupkg") and $zip."
    Write-Host "Install by name: Register-PSResourceRepository -Name NenAiLocal -Uri '$packagesOut' -Trusted; Install-PSResource NenAi -Repository NenAiLocal"
}

function Invoke-DemoTask {
    Invoke-BuildTask
    Import-Module (Join-Path $root 'tools/EmulatorProcess.psm1') -Force
    $emulator = Start-EmulatorProcess
    try {
        # Demo credentials of the local emulator (emulator.sample.json); never real ones.
        $env:NEN_BASE_URL = $emulator.BaseUri
        $env:NEN_API_KEY = 'nen-demo-api-key'
        $env:NEN_SIGNING_KEY = 'nen-demo-signing-key'
        Import-Module (Join-Path $moduleOut 'NenAi.psd1') -Force
        $out = Join-Path $outRoot 'demo-results'
        # A fresh emulator knows no earlier runs, so the demo starts a fresh batch (and journal) each time.
        $journal = Join-Path $outRoot 'demo.journal.jsonl'
        Remove-Item -LiteralPath $journal -ErrorAction Ignore
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
