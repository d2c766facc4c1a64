/** The WorkStore contract suite on the in-memory store. */
import { MemoryWorkStore } from '../src/store/memory-store.js';
import { describeWorkStore } from './store-suite.js';

describeWorkStore('memory', async (clock, lease) => new MemoryWorkStore({ clock, ...(lease === undefined ? {} : { lease }) }));
