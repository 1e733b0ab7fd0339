#!/usr/bin/env node
import { main } from './cli/main.js';

// The `callbackd` bin (package.json points here); the commands live in src/cli/.
process.exitCode = await main(process.argv);
