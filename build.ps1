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
    Invoke-Native dotnet @('build', (Join-Path $root 'src/NenAi/NenAi.csproj'), '-c', $Configuration, '--nologo')
    Invoke-Native dotnet @('build', (Join-Path $root 'src/NenAi.Emulator/NenAi.Emulator.csproj'), '-c', $Configuration, '--nologo')
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    foreach ($tfm in 'net472', 'net8.0') {
        $target = New-Item -ItemType Directory -Path (Join-Path $moduleOut "bin/$tfm") -Force
        Get-ChildItem (Join-Path $root "src/NenAi/bin/$Configuration/$tfm") -File |
            Where-Object { $_.Extension -in '.dll', '.pdb', '.json' } |
            Copy-Item -Destination $target
    }
    foreach ($file in 'NenAi.psd1', 'NenAi.psm1', 'NenAi.Format.ps1xml') {
        Copy-Item (Join-Path $root $file) -Destination $moduleOut
    }
    Invoke-DocsTask
    # Get-Help looks for NenAi.dll-Help.xml beside the manifest and beside the cmdlet assembly; put it in
    # both, and beside the repository-root manifest too (Import-Module ./NenAi.psd1).
    foreach ($target in @($root, (Join-Path $moduleOut 'bin/net472'), (Join-Path $moduleOut 'bin/net8.0'))) {
        Copy-Item (Join-Path $moduleOut 'en-US') -Destination $target -Recurse -Force
    }
    Write-Host "Module laid out in $moduleOut. Import it with: Import-Module $(Join-Path $root 'NenAi.psd1')"
}

function Invoke-DocsTask {
    $helpOut = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US') -Force
    $docs = Join-Path $root 'docs/en-US'
    $platy = Get-Module -ListAvailable -Name platyPS | Sort-Object Version -Descending | Select-Object -First 1
    if ($platy) {
        Import-Module $platy
        New-ExternalHelp -Path $docs -OutputPath $helpOut -Force | Out-Null
    }
    else {
        Write-Host 'platyPS is not installed: generating MAML with the repository''s own generator.'
        Invoke-Native dotnet @('run', '--project', (Join-Path $root 'src/NenAi.HelpGen/NenAi.HelpGen.csproj'), '-c', $Configuration, '--', $docs, $helpOut.FullName)
    }
    # about_ topics ship as plain text next to the MAML.
    Get-ChildItem $docs -Filter 'about_*.md' | ForEach-Object {
        $text = Get-Content $_.FullName -Raw
        Set-Content -Path (Join-Path $helpOut ($_.BaseName + '.help.txt')) -Value $text -Encoding UTF8
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
        Import-Csv (Join-Path $root 'docs/examples/jobs.csv') |
            Start-NenRun -WorkflowId '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21' -KeyProperty JobId -ExcludeProperty JobId -JournalPath (Join-Path $outRoot 'demo.journal.jsonl') |
            Wait-NenRun -PollIntervalSec 1 -TimeoutSec 120 |
            Get-NenRunResult -Destination $out |
            Format-Table -AutoSize
        Write-Host "Results are in $out"
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
