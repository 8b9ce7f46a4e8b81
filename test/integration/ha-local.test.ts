import { haSuite } from './ha-suite.js';

haSuite('local');
