// The system's random generator for message ids, before anything of Parley loads.
import 'react-native-get-random-values';
import { registerRootComponent } from 'expo';
import App from './App';

registerRootComponent(App);
